import { IsOptional, Max, MaxLength, Min } from 'class-validator';
import { ArgsType, Field, Int } from 'type-graphql';
import { MAX_PAGE_SIZE } from '../booking/pagination';

/** The arguments of a cursor-paginated list: `first` and `after`. */
export interface PageArguments {
  first?: number | null;
  after?: string | null;
}

// A mixin's base class takes whatever arguments its own constructor does.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ArgsClass = abstract new (...args: any[]) => object;

class NoArguments {}

/**
 * The `first` / `after` arguments of a cursor-paginated list of `items` (named in their
 * descriptions), for list args classes to extend: `class SessionsArgs extends PageArgs('sessions')`.
 * Arguments of `Base` come first in the schema, as in `PageArgs('sales', SalesOwnerArgs)`.
 */
export function PageArgs<Base extends ArgsClass = typeof NoArguments>(
  items: string,
  Base: Base = NoArguments as unknown as Base,
) {
  @ArgsType()
  abstract class PageArgsOf extends Base implements PageArguments {
    @Field(() => Int, {
      nullable: true,
      defaultValue: 20,
      description: `How many ${items} to return (1-${MAX_PAGE_SIZE}).`,
    })
    @IsOptional()
    @Min(1)
    @Max(MAX_PAGE_SIZE)
    first?: number | null;

    @Field(() => String, { nullable: true, description: '`endCursor` of the previous page.' })
    @IsOptional()
    @MaxLength(500)
    after?: string | null;
  }
  return PageArgsOf;
}
