import { Migration } from '@mikro-orm/migrations';

/**
 * Sessions in auditoriums, with a schedule, category prices and seat kinds. Existing sessions
 * (made by `createSession`) become what `createSession` makes now: 120 minutes, no auditorium,
 * no gap rule, one STANDARD category at their price; their seats STANDARD at that price, drawn
 * where their number puts them.
 */
export class Migration20261202062209_scheduled_sessions extends Migration {

  override async up(): Promise<void> {
    // The schedule's exclusion constraint compares auditorium ids (btree) and time spans (gist).
    this.addSql(`create extension if not exists btree_gist;`);

    this.addSql(`alter table "session" add "duration_minutes" int null, add "ends_at" timestamptz null, add "busy_until" timestamptz null, add "auditorium_id" uuid null, add "prices" jsonb null, add "gap_rule" text null;`);
    this.addSql(`update "session" set "duration_minutes" = 120, "ends_at" = "starts_at" + make_interval(mins => 120), "busy_until" = "starts_at" + make_interval(mins => 120), "prices" = jsonb_build_array(jsonb_build_object('category', 'STANDARD', 'priceCents', "price_cents")), "gap_rule" = 'OFF';`);
    this.addSql(`alter table "session" alter column "duration_minutes" set not null, alter column "ends_at" set not null, alter column "busy_until" set not null, alter column "prices" set not null, alter column "gap_rule" set not null;`);
    this.addSql(`alter table "session" add constraint "session_auditorium_id_foreign" foreign key ("auditorium_id") references "auditorium" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "session" add constraint "session_auditorium_schedule_exclusion" exclude using gist ("auditorium_id" with =, tstzrange("starts_at", "busy_until", '[)') with &&) where ("auditorium_id" is not null);`);
    this.addSql(`alter table "session" add constraint "session_span_check" check (ends_at = starts_at + make_interval(mins => duration_minutes) and busy_until >= ends_at);`);
    this.addSql(`alter table "session" add constraint "session_duration_minutes_check" check (duration_minutes >= 1 and duration_minutes <= 1440);`);
    this.addSql(`alter table "session" add constraint "session_gap_rule_check" check ("gap_rule" in ('OFF', 'NO_SINGLE_SEAT'));`);

    this.addSql(`alter table "seat" add "x" int null, add "category" text null, add "kind" text null, add "price_cents" int null;`);
    this.addSql(`update "seat" set "x" = "seat"."number" - 1, "category" = 'STANDARD', "kind" = 'STANDARD', "price_cents" = "session"."price_cents" from "session" where "session"."id" = "seat"."session_id";`);
    this.addSql(`alter table "seat" alter column "x" set not null, alter column "category" set not null, alter column "kind" set not null, alter column "price_cents" set not null;`);
    this.addSql(`alter table "seat" add constraint "seat_category_check" check (char_length(category) >= 1 and char_length(category) <= 50);`);
    this.addSql(`alter table "seat" add constraint "seat_price_cents_check" check (price_cents >= 0);`);
    this.addSql(`alter table "seat" add constraint "seat_x_check" check (x >= 0);`);
    this.addSql(`alter table "seat" add constraint "seat_kind_check" check ("kind" in ('STANDARD', 'WHEELCHAIR', 'COMPANION'));`);
  }

  override async down(): Promise<void> {
    // The previous schema knows only one-off rooms at one price: refuse rather than reprice
    // seats or forget which auditorium a session is in.
    this.addSql(`do $$ begin if exists (select 1 from "session" where "auditorium_id" is not null) or exists (select 1 from "seat" join "session" on "session"."id" = "seat"."session_id" where "seat"."price_cents" <> "session"."price_cents" or "seat"."category" <> 'STANDARD' or "seat"."kind" <> 'STANDARD') then raise exception 'Scheduled sessions or priced seats exist: reverting would lose them.'; end if; end $$;`);
    this.addSql(`alter table "seat" drop constraint "seat_category_check", drop constraint "seat_price_cents_check", drop constraint "seat_x_check", drop constraint "seat_kind_check";`);
    this.addSql(`alter table "seat" drop column "x", drop column "category", drop column "kind", drop column "price_cents";`);

    this.addSql(`alter table "session" drop constraint "session_auditorium_schedule_exclusion", drop constraint "session_auditorium_id_foreign", drop constraint "session_span_check", drop constraint "session_duration_minutes_check", drop constraint "session_gap_rule_check";`);
    this.addSql(`alter table "session" drop column "duration_minutes", drop column "ends_at", drop column "busy_until", drop column "auditorium_id", drop column "prices", drop column "gap_rule";`);
  }

}
