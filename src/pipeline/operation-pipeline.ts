import {
  type DocumentNode,
  type ExecutionArgs,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { type Context, type ContextFactory } from '../resolvers/context';
import { type DomainError, ErrorCode, overloaded } from '../errors/domain-error';
import { type Viewer } from '../infra/auth';
import { admissionClassOf, type AdmissionGate } from '../security/admission-gate';
import { type RequestGuard } from '../security/request-guard';
import { type DocumentLimits, parseDocument, validateDocument, validationRules } from './document';
import { operationTypeOf } from './operation-type';
import { operationNotFound, operationTypeNotServed, subscriptionNotServed, withCode } from './refusals';

/** What a transport can serve, which the pipeline enforces the same way for all of them. */
export interface TransportPolicy {
  /**
   * Set when this transport cannot stream results (HTTP POST): subscriptions are refused
   * with this message, which says where to subscribe instead.
   */
  readonly refuseSubscriptions?: string;
  /**
   * Set when this transport serves only subscriptions (Server-Sent Events): queries and
   * mutations are refused with this message, which says where to send them instead.
   */
  readonly refuseQueriesAndMutations?: string;
  /** DataLoader memo: on for one-shot requests, off for long-lived subscriptions. */
  readonly cacheLoaders: boolean;
}

/**
 * Who sends an operation, as far as its transport knows: a caller the transport already
 * authenticated (websocket connections verify their token once), or the `Authorization`
 * value of this request (verified by the pipeline).
 */
export type OperationSender =
  { readonly viewer: Viewer | null } | { readonly authorization: string | undefined };

/** One operation as a transport received it. */
export interface OperationRequest {
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>> | null;
  readonly operationName?: string | null;
  readonly sender: OperationSender;
  /** Who sent it (see `ClientAddressResolver`): rate budgets of anonymous callers count per address. */
  readonly clientAddress: string;
  /** Correlates the operation's log lines. */
  readonly requestId: string;
}

/** Arguments for graphql-js's `execute`/`subscribe`, with this service's context. */
export interface PipelineExecutionArgs extends ExecutionArgs {
  readonly contextValue: Context;
}

/** What the pipeline makes of a request: arguments to run it with, or the errors refusing it. */
export type PreparedOperation =
  | {
      readonly args: PipelineExecutionArgs;
      readonly operation: OperationDefinitionNode;
      readonly errors?: undefined;
    }
  | { readonly args?: undefined; readonly operation?: undefined; readonly errors: readonly GraphQLError[] };

/** An operation Apollo has parsed and validated itself, about to run (HTTP). */
export interface ResolvedOperation {
  readonly document: DocumentNode;
  /** Apollo's pick of the operation: absent when the name matched none or several were unnamed. */
  readonly operation: OperationDefinitionNode | null | undefined;
  readonly operationName: string | null | undefined;
  readonly variables: Readonly<Record<string, unknown>> | undefined;
  readonly viewer: Viewer | null;
  readonly clientAddress: string;
}

/**
 * Admission control's verdict on one operation: go ahead (and call `release` once it has been
 * answered), or the refusal to answer at once (RATE_LIMITED with `retryAfterSeconds`).
 */
export type OperationAdmission =
  | { readonly release: () => void; readonly refusal?: undefined }
  | { readonly release?: undefined; readonly refusal: DomainError };

/**
 * The one operation pipeline of every transport: admission (the overload gate) → parse (token limit) → document size →
 * validation → operation selection → transport policy → variables → limits and rate budget
 * (the guard) → context. Every refusal carries the error table's code and status.
 */
export interface OperationPipeline {
  /**
   * Admission control of reads, first of all and before anything costly (token, context,
   * parsing): the operation's type is read from the text's tokens, and the gate (see
   * `AdmissionGate`) admits a query now, after a short wait, or refuses it. Mutations and
   * subscriptions pass (mutations are admitted by their booking transaction). Every transport
   * that runs queries and mutations calls it as a request arrives.
   */
  enter(query: unknown, operationName: unknown): Promise<OperationAdmission>;
  /**
   * The whole pipeline, for transports that hand over raw requests (websocket, SSE).
   * Refusals come back as GraphQL errors for the transport to format and send.
   */
  prepare(request: OperationRequest, policy: TransportPolicy): Promise<PreparedOperation>;
  /**
   * The checks after parsing and validation, for a transport whose server parsed and
   * validated the document itself (Apollo over HTTP): empty means go ahead.
   */
  admit(operation: ResolvedOperation, policy: TransportPolicy): Promise<readonly GraphQLError[]>;
}

/** What the pipeline runs with. */
export interface OperationPipelineOptions {
  readonly schema: GraphQLSchema;
  readonly limits: DocumentLimits;
  readonly guard: RequestGuard;
  readonly createContext: ContextFactory;
  /** Bounds the operations running at once (absent: no admission control, as in unit tests). */
  readonly gate?: AdmissionGate;
}

const ADMITTED_UNGATED: OperationAdmission = Object.freeze({ release: () => undefined });

/**
 * The operation `operationName` picks, refused when there is none or when the transport
 * cannot serve its type.
 */
export function selectOperation(
  operation: OperationDefinitionNode | null | undefined,
  operationName: string | null | undefined,
  policy: TransportPolicy,
): OperationDefinitionNode | GraphQLError {
  if (!operation) {
    return operationNotFound(operationName);
  }
  if (operation.operation === 'subscription' && policy.refuseSubscriptions !== undefined) {
    return subscriptionNotServed(policy.refuseSubscriptions);
  }
  if (operation.operation !== 'subscription' && policy.refuseQueriesAndMutations !== undefined) {
    return operationTypeNotServed(policy.refuseQueriesAndMutations);
  }
  return operation;
}

/** Builds the pipeline shared by every transport. */
export function createOperationPipeline(options: OperationPipelineOptions): OperationPipeline {
  const { schema, limits, guard, createContext, gate } = options;
  const rules = validationRules(limits);

  return {
    enter: async (query, operationName) => {
      // Only reads are admitted here; a mutation's slot is taken by its booking transaction,
      // after the seat locks (see `BookingTransactions.run`), so that race losers still hear
      // SEAT_UNAVAILABLE rather than RATE_LIMITED.
      if (
        !gate?.gates('read') ||
        admissionClassOf(operationTypeOf(query, operationName, limits.maxTokens)) !== 'read'
      ) {
        return ADMITTED_UNGATED;
      }
      const admission = await gate.enter('read');
      return admission.admitted
        ? { release: admission.release }
        : { refusal: overloaded(admission.retryAfterSeconds) };
    },

    admit: async (resolved, policy) => {
      const selected = selectOperation(resolved.operation, resolved.operationName, policy);
      if (selected instanceof GraphQLError) {
        return [selected];
      }
      return guard({
        document: resolved.document,
        operation: selected,
        variables: resolved.variables as Record<string, unknown> | undefined,
        viewer: resolved.viewer,
        clientAddress: resolved.clientAddress,
      });
    },

    prepare: async (request, policy) => {
      const parsed = parseDocument(request.query, limits);
      if (parsed.errors) {
        return { errors: parsed.errors };
      }
      const { document } = parsed;
      const validationErrors = validateDocument(schema, document, rules);
      if (validationErrors.length > 0) {
        return { errors: validationErrors };
      }
      const selected = selectOperation(
        getOperationAST(document, request.operationName),
        request.operationName,
        policy,
      );
      if (selected instanceof GraphQLError) {
        return { errors: [selected] };
      }
      const variables = getVariableValues(
        schema,
        selected.variableDefinitions ?? [],
        request.variables ?? {},
        { maxErrors: 10 },
      );
      if (variables.errors) {
        return { errors: variables.errors.map((error) => withCode(error, ErrorCode.BadUserInput)) };
      }
      // Building the context verifies a per-request token; the rate budget needs its verdict.
      const contextValue = await createContext({
        ...request.sender,
        clientAddress: request.clientAddress,
        requestId: request.requestId,
        cacheLoaders: policy.cacheLoaders,
      });
      const refused = await guard({
        document,
        operation: selected,
        variables: (request.variables ?? undefined) as Record<string, unknown> | undefined,
        viewer: contextValue.viewer,
        clientAddress: request.clientAddress,
      });
      if (refused.length > 0) {
        return { errors: refused };
      }
      return {
        operation: selected,
        args: {
          schema,
          document,
          operationName: request.operationName,
          variableValues: request.variables,
          contextValue,
        },
      };
    },
  };
}
