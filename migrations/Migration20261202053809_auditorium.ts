import { Migration } from '@mikro-orm/migrations';

export class Migration20261202053809_auditorium extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "auditorium" ("id" uuid not null, "name" text not null, "cleaning_buffer_minutes" int not null, "categories" jsonb not null, "capacity" int not null, "rows" jsonb not null, "legend" jsonb not null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`alter table "auditorium" add constraint "auditorium_name_unique" unique ("name");`);

    this.addSql(`alter table "auditorium" add constraint "auditorium_capacity_check" check (capacity >= 1);`);
    this.addSql(`alter table "auditorium" add constraint "auditorium_cleaning_buffer_minutes_check" check (cleaning_buffer_minutes >= 0 and cleaning_buffer_minutes <= 240);`);
    this.addSql(`alter table "auditorium" add constraint "auditorium_name_check" check (char_length(name) >= 1 and char_length(name) <= 100);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "auditorium" cascade;`);
  }

}
