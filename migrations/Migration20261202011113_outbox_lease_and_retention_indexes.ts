import { Migration } from '@mikro-orm/migrations';

export class Migration20261202011113_outbox_lease_and_retention_indexes extends Migration {

  override async up(): Promise<void> {
    // Both tables were never pruned before this migration, so on an old deployment the index
    // builds may outlast the connection's statement timeout. Large deployments build them
    // beforehand with `create index concurrently` (docs/runbook.md); "if not exists" then skips them.
    this.addSql(`set local statement_timeout = 0;`);
    this.addSql(`create index if not exists "consumed_message_consumed_at_index" on "consumed_message" ("consumed_at");`);

    this.addSql(`alter table "outbox_event" add column "claimed_until" timestamptz null;`);
    this.addSql(`create index if not exists "outbox_event_published_at_index" on "outbox_event" ("published_at") where "published_at" is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "consumed_message_consumed_at_index";`);

    this.addSql(`drop index "outbox_event_published_at_index";`);
    this.addSql(`alter table "outbox_event" drop column "claimed_until";`);
  }

}
