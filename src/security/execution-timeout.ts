import { type RequestHandler, type Response } from 'express';
import { requestTimedOut } from '../errors/domain-error';
import { refusalResponse } from '../errors/graphql-error-formatter';
import { RequestDeadline } from '../infra/request-deadline';

// Where the middleware leaves the request's deadline for the GraphQL context.
const DEADLINE_LOCAL = 'requestDeadline';

// A timeout is mostly contention that clears quickly (a lock held by another transaction).
const RETRY_AFTER_SECONDS = 1;

/**
 * Answers 503 (with `Retry-After`) if a request has not been answered in time; nothing waits
 * forever. The request's {@link RequestDeadline} (see {@link requestDeadlineOf}) lets its
 * transactions finish first or roll back, so a 503 never hides work that committed.
 */
export function executionTimeout(milliseconds: number): RequestHandler {
  return (_request, response, next) => {
    const deadline = new RequestDeadline(milliseconds, () => answerTimedOut(response));
    response.locals[DEADLINE_LOCAL] = deadline;
    const timer = setTimeout(() => deadline.expire(), milliseconds);
    response.on('close', () => clearTimeout(timer));
    next();
  };
}

function answerTimedOut(response: Response): void {
  if (response.headersSent) {
    return;
  }
  const { status, body } = refusalResponse(requestTimedOut());
  response.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
  // The abandoned execution still ends on this socket (its late answer is refused there), so
  // the client must not send its next request over it.
  response.setHeader('connection', 'close');
  response.status(status).json(body);
}

/** The deadline of the request answered by `response`, if {@link executionTimeout} set one. */
export function requestDeadlineOf(response: Response): RequestDeadline | undefined {
  const deadline: unknown = response.locals[DEADLINE_LOCAL];
  return deadline instanceof RequestDeadline ? deadline : undefined;
}
