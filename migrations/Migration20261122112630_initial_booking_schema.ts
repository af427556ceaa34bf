import { Migration } from '@mikro-orm/migrations';

export class Migration20261122112630_initial_booking_schema extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "outbox_event" ("id" uuid not null, "topic" text not null, "payload" jsonb not null, "created_at" timestamptz not null default now(), "published_at" timestamptz null, constraint "outbox_event_pkey" primary key ("id"));`);
    this.addSql(`create index "outbox_event_unpublished_index" on "outbox_event" ("id") where "published_at" is null;`);

    this.addSql(`create table "session" ("id" uuid not null, "movie" text not null, "room" text not null, "starts_at" timestamptz not null, "price_cents" int not null, "rows" int not null, "seats_per_row" int not null, "created_at" timestamptz not null default now(), constraint "session_pkey" primary key ("id"), constraint session_room_check check (char_length(room) >= 1 and char_length(room) <= 100), constraint session_movie_check check (char_length(movie) >= 1 and char_length(movie) <= 200), constraint session_seats_per_row_check check (seats_per_row >= 1 and seats_per_row <= 100), constraint session_rows_check check (rows >= 1 and rows <= 100), constraint session_price_cents_check check (price_cents >= 0));`);
    this.addSql(`create index "session_starts_at_id_index" on "session" ("starts_at", "id");`);

    this.addSql(`create table "seat" ("id" uuid not null, "session_id" uuid not null, "row_index" int not null, "row" text not null, "number" int not null, "status" text check ("status" in ('AVAILABLE', 'RESERVED', 'SOLD')) not null default 'AVAILABLE', "version" int not null default 1, "hold_expires_at" timestamptz null, constraint "seat_pkey" primary key ("id"), constraint seat_hold_check check ((status = 'RESERVED') = (hold_expires_at is not null)), constraint seat_row_index_check check (row_index >= 0), constraint seat_number_check check (number >= 1), constraint seat_version_check check (version >= 1));`);
    this.addSql(`alter table "seat" add constraint "seat_session_position_unique" unique ("session_id", "row_index", "number");`);

    this.addSql(`create table "reservation" ("id" uuid not null, "user_id" text not null, "session_id" uuid not null, "status" text check ("status" in ('PENDING', 'CONFIRMED', 'EXPIRED', 'CANCELLED')) not null default 'PENDING', "expires_at" timestamptz not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "total_cents" int not null, "idempotency_key" text null, "lock_token" text null, constraint "reservation_pkey" primary key ("id"), constraint reservation_expires_at_check check (expires_at > created_at), constraint reservation_user_id_check check (char_length(user_id) >= 1 and char_length(user_id) <= 200), constraint reservation_total_cents_check check (total_cents >= 0));`);
    this.addSql(`create index "reservation_status_expires_at_index" on "reservation" ("status", "expires_at");`);
    this.addSql(`create index "reservation_user_status_index" on "reservation" ("user_id", "status");`);
    this.addSql(`alter table "reservation" add constraint "reservation_user_idempotency_key_unique" unique ("user_id", "idempotency_key");`);

    this.addSql(`create table "sale" ("id" uuid not null, "user_id" text not null, "reservation_id" uuid not null, "session_id" uuid not null, "amount_cents" int not null, "created_at" timestamptz not null, constraint "sale_pkey" primary key ("id"), constraint sale_amount_cents_check check (amount_cents >= 0));`);
    this.addSql(`alter table "sale" add constraint "sale_reservation_unique" unique ("reservation_id");`);
    this.addSql(`create index "sale_user_id_id_index" on "sale" ("user_id", "id");`);

    this.addSql(`create table "reservation_seat" ("reservation_id" uuid not null, "seat_id" uuid not null, "live" boolean not null default true, constraint "reservation_seat_pkey" primary key ("reservation_id", "seat_id"));`);
    this.addSql(`create index "reservation_seat_seat_index" on "reservation_seat" ("seat_id");`);
    this.addSql(`create unique index "reservation_seat_live_seat_unique" on "reservation_seat" ("seat_id") where "live";`);

    this.addSql(`alter table "seat" add constraint "seat_session_id_foreign" foreign key ("session_id") references "session" ("id") on update cascade;`);

    this.addSql(`alter table "reservation" add constraint "reservation_session_id_foreign" foreign key ("session_id") references "session" ("id") on update cascade;`);

    this.addSql(`alter table "sale" add constraint "sale_reservation_id_foreign" foreign key ("reservation_id") references "reservation" ("id") on update cascade;`);
    this.addSql(`alter table "sale" add constraint "sale_session_id_foreign" foreign key ("session_id") references "session" ("id") on update cascade;`);

    this.addSql(`alter table "reservation_seat" add constraint "reservation_seat_reservation_id_foreign" foreign key ("reservation_id") references "reservation" ("id") on update cascade;`);
    this.addSql(`alter table "reservation_seat" add constraint "reservation_seat_seat_id_foreign" foreign key ("seat_id") references "seat" ("id") on update cascade;`);
  }

}
