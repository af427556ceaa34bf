import { Migration } from '@mikro-orm/migrations';

export class Migration20261202134227_running_holds_after_user_lock extends Migration {

  override name = 'Migration20261202134227_running_holds_after_user_lock';

  override up(): void | Promise<void> {
    this.addSql(`create or replace function "running_holds_after_user_lock"("holder" text, "counted_at" timestamptz) returns integer volatile language sql as \$\$ select pg_advisory_xact_lock(7204, hashtext(holder)); select count(*)::int from reservation where user_id = holder and status = 'PENDING' and (expires_at > counted_at); \$\$;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop function if exists "running_holds_after_user_lock"(text, timestamptz);`);
  }

}
