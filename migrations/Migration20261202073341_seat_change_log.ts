import { Migration } from '@mikro-orm/migrations';

export class Migration20261202073341_seat_change_log extends Migration {

  override name = 'Migration20261202073341_seat_change_log';

  override up(): void | Promise<void> {
    this.addSql(`create table "seat_change" ("session_id" uuid not null, "map_version" int not null, "payload" jsonb not null, "changed_at" timestamptz not null, primary key ("session_id", "map_version"));`);

    this.addSql(`alter table "session" add "map_version" int not null default 0;`);
    this.addSql(`alter table "session" add constraint "session_map_version_check" check (map_version >= 0);`);

    this.addSql(`alter table "seat_change" add constraint "seat_change_map_version_check" check (map_version >= 1);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "seat_change" cascade;`);

    this.addSql(`alter table "session" drop constraint "session_map_version_check";`);
    this.addSql(`alter table "session" drop column "map_version";`);
  }

}
