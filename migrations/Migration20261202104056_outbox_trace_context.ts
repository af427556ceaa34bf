import { Migration } from '@mikro-orm/migrations';

export class Migration20261202104056_outbox_trace_context extends Migration {

  override name = 'Migration20261202104056_outbox_trace_context';

  override up(): void | Promise<void> {
    this.addSql(`alter table "outbox_event" add "trace_context" jsonb null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "outbox_event" drop column "trace_context";`);
  }

}
