import type express from 'express';
import { type ErrorRequestHandler, type RequestHandler } from 'express';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { ERROR_CODE_TABLE, refusalResponse } from '../errors/graphql-error-formatter';
import { type Logger } from '../infra/logger';
import { type OperationPipeline } from '../pipeline/operation-pipeline';
import { requestDeadlineOf } from '../security/execution-timeout';
import { checkDocumentSourceSize } from '../security/document-size';

/** Answers a refusal made before GraphQL runs, with the error table's status and code. */
function refuse(response: express.Response, code: ErrorCode, message: string): void {
  const { status, body } = refusalResponse(new DomainError(code, message));
  response.status(status).json(body);
}

/**
 * Refuses documents with too many selections before Apollo validates them (validation's cost
 * grows with the square of the selections; Apollo's hooks cannot answer 400 before it).
 */
export function documentSizeGuard(limits: Parameters<typeof checkDocumentSourceSize>[1]): RequestHandler {
  return (request, response, next) => {
    const body = request.body as { query?: unknown } | undefined;
    const query = request.method === 'GET' ? request.query.query : body?.query;
    const refused = typeof query === 'string' ? checkDocumentSourceSize(query, limits) : undefined;
    if (!refused) {
      next();
      return;
    }
    const { status, body: answer } = refusalResponse(refused);
    response.status(status).json(answer);
  };
}

/**
 * Admission control over HTTP (see `OperationPipeline.enter`), before the token is verified,
 * the context built or the document parsed: a refusal is answered at once, 429 RATE_LIMITED
 * with `retryAfterSeconds` and `Retry-After`. An admitted operation holds its slot until its
 * response has been sent, or its connection closed.
 */
export function admissionControl(pipeline: Pick<OperationPipeline, 'enter'>): RequestHandler {
  return (request, response, next) => {
    const fromQueryString = request.method === 'GET';
    const body = request.body as { query?: unknown; operationName?: unknown } | undefined;
    let release: (() => void) | undefined;
    let closed = false;
    // Listening first: a client that gives up while queued must not keep its slot.
    response.once('close', () => {
      closed = true;
      release?.();
    });
    pipeline
      .enter(
        fromQueryString ? request.query.query : body?.query,
        fromQueryString ? request.query.operationName : body?.operationName,
      )
      .then((admission) => {
        if (admission.refusal) {
          const { status, body: answer } = refusalResponse(admission.refusal);
          response.setHeader('retry-after', String(admission.refusal.details.retryAfterSeconds));
          response.status(status).json(answer);
          return;
        }
        release = admission.release;
        if (closed) {
          release();
          return;
        }
        next();
      }, next);
  };
}

/** Oversized or unreadable bodies get a GraphQL-shaped refusal instead of an HTML page. */
export const bodyErrors: ErrorRequestHandler = (
  error: { status?: number; type?: string },
  _request,
  response,
  next,
) => {
  if (response.headersSent) {
    next(error);
    return;
  }
  if (error.type === 'entity.too.large') {
    // 413 says more than the table's 400 for this one case; the code is the same.
    const { body } = refusalResponse(new DomainError(ErrorCode.BadRequest, 'The request body is too large.'));
    response.status(413).json(body);
  } else if (error.status && error.status >= 400 && error.status < 500) {
    refuse(response, ErrorCode.BadRequest, 'The request body could not be read.');
  } else {
    next(error);
  }
};

/** Any path nobody serves. */
export const notFound: RequestHandler = (_request, response) => {
  refuse(response, ErrorCode.NotFound, 'Not found.');
};

/** The last word on anything thrown outside GraphQL: logged, never shown (no stack, no paths). */
export function unexpectedErrors(logger: Logger): ErrorRequestHandler {
  return (error, _request, response, next) => {
    if (response.headersSent && requestDeadlineOf(response)?.expired) {
      // The request was already answered 503 (timed out); its late answer has nowhere to go.
      logger.debug({ err: error }, 'Late answer of a timed-out request dropped');
      return;
    }
    if (response.headersSent) {
      next(error);
      return;
    }
    logger[ERROR_CODE_TABLE[ErrorCode.InternalServerError].logLevel]({ err: error }, 'Unexpected HTTP error');
    refuse(response, ErrorCode.InternalServerError, 'Internal server error');
  };
}
