import { Field, ObjectType } from 'type-graphql';
import { Sale } from '../entities/sale.entity';
import { Session } from '../entities/session.entity';

@ObjectType({ description: 'Where a page ends (Relay cursor connections).' })
export class PageInfo {
  @Field({ description: 'Whether more items follow this page.' })
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item; pass it as `after`.' })
  endCursor!: string | null;
}

@ObjectType({ description: 'A session in a page.' })
export class SessionEdge {
  @Field({ description: 'Opaque position of this session.' })
  cursor!: string;

  @Field(() => Session, { description: 'The session.' })
  node!: Session;
}

@ObjectType({ description: 'A page of sessions ordered by start time, then id.' })
export class SessionConnection {
  @Field(() => [SessionEdge], { description: 'The sessions of this page.' })
  edges!: SessionEdge[];

  @Field(() => PageInfo, { description: 'Whether there is more.' })
  pageInfo!: PageInfo;
}

@ObjectType({ description: 'A sale in a page.' })
export class SaleEdge {
  @Field({ description: 'Opaque position of this sale.' })
  cursor!: string;

  @Field(() => Sale, { description: 'The sale.' })
  node!: Sale;
}

@ObjectType({ description: 'A page of sales, newest first.' })
export class SaleConnection {
  @Field(() => [SaleEdge], { description: 'The sales of this page.' })
  edges!: SaleEdge[];

  @Field(() => PageInfo, { description: 'Whether there is more.' })
  pageInfo!: PageInfo;
}
