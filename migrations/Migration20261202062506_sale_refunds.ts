import { Migration } from '@mikro-orm/migrations';

export class Migration20261202062506_sale_refunds extends Migration {

  override name = 'Migration20261202062506_sale_refunds';

  override up(): void | Promise<void> {
    this.addSql(`create table "refund" ("id" uuid not null, "sale_id" uuid not null, "amount_cents" int not null, "percent" int not null, "reason" text null, "created_at" timestamptz not null, "refunded_by" text not null, primary key ("id"));`);
    this.addSql(`alter table "refund" add constraint "refund_sale_unique" unique ("sale_id");`);

    this.addSql(`alter table "sale" add "status" text not null default 'PAID';`);
    this.addSql(`alter table "sale" add constraint "sale_status_check" check ("status" in ('PAID', 'REFUNDED'));`);

    this.addSql(`alter table "refund" add constraint "refund_sale_id_foreign" foreign key ("sale_id") references "sale" ("id") on update cascade;`);
    this.addSql(`alter table "refund" add constraint "refund_refunded_by_check" check (char_length(refunded_by) >= 1 and char_length(refunded_by) <= 200);`);
    this.addSql(`alter table "refund" add constraint "refund_reason_check" check (reason is null or (char_length(reason) >= 1 and char_length(reason) <= 500));`);
    this.addSql(`alter table "refund" add constraint "refund_amount_cents_check" check (amount_cents >= 0);`);
    this.addSql(`alter table "refund" add constraint "refund_percent_check" check (percent >= 0 and percent <= 100);`);
  }

  override down(): void | Promise<void> {
    // The previous schema cannot say a sale was refunded (its seats may be sold again since):
    // refuse rather than turn refunded sales back into paid ones and lose the money trail.
    this.addSql(`do $$ begin if exists (select 1 from "refund") then raise exception 'Refunds exist: reverting would lose them and show refunded sales as paid.'; end if; end $$;`);
    this.addSql(`drop table if exists "refund" cascade;`);

    this.addSql(`alter table "sale" drop constraint "sale_status_check";`);
    this.addSql(`alter table "sale" drop column "status";`);
  }

}
