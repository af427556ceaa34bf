import { type RequestHandler, type Response } from 'express';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { refusalResponse } from '../errors/graphql-error-formatter';

/** Answers 503 if a request has not been answered in time; nothing waits forever. */
export function executionTimeout(milliseconds: number): RequestHandler {
  return (_request, response, next) => {
    const timer = setTimeout(() => {
      if (!response.headersSent) {
        const { status, body } = refusalResponse(
          new DomainError(ErrorCode.Timeout, 'The request took too long.', { reason: 'TIMEOUT' }),
        );
        response.status(status).json(body);
      }
    }, milliseconds);
    response.on('close', () => clearTimeout(timer));
    next();
  };
}

/** The deadline of the request answered by `response` (none yet: see the timeout issue). */
export function requestDeadlineOf(_response: Response): undefined {
  return undefined;
}
