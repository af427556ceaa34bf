import { Migration } from '@mikro-orm/migrations';

export class Migration20261122113604_consumed_message_inbox extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "consumed_message" ("consumer" text not null, "message_id" text not null, "consumed_at" timestamptz not null default now(), constraint "consumed_message_pkey" primary key ("consumer", "message_id"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "consumed_message" cascade;`);
  }

}
