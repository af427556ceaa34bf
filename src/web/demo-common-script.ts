/**
 * Browser code shared by the demo pages, served as `/demo/assets/demo-common.js`: GraphQL over
 * `fetch` (and subscriptions over Server-Sent Events), money and time formatting, and the one place that turns any failure (GraphQL errors,
 * HTTP answers, network and websocket failures) into a sentence for people. It defines one
 * global, `PoltronaDemo`, and touches no DOM when loaded (`demo-common-script.test.ts` runs it
 * in a bare VM context).
 *
 * Everything the pages show of the API's data goes through `textContent`, never `innerHTML`:
 * movie names, rooms and categories are user input.
 */
export const DEMO_COMMON_SCRIPT = String.raw`'use strict';
var PoltronaDemo = (function () {
  var money = new Intl.NumberFormat('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  /** 1250 -> "12.50". */
  function formatMoney(cents) {
    return money.format((Number(cents) || 0) / 100);
  }

  /** 75 -> "1:15". */
  function formatCountdown(seconds) {
    var whole = Math.max(0, Math.ceil(seconds));
    var rest = whole % 60;
    return Math.floor(whole / 60) + ':' + (rest < 10 ? '0' : '') + rest;
  }

  /** ["A1"] -> "A1"; ["A1", "A2", "A3"] -> "A1, A2 and A3". */
  function listWords(words) {
    if (words.length <= 1) {
      return words.join('');
    }
    return words.slice(0, -1).join(', ') + ' and ' + words[words.length - 1];
  }

  /** A failure of a GraphQL request: the HTTP status and the errors, as the server sent them. */
  function GraphQLProblem(kind, status, errors) {
    this.name = 'GraphQLProblem';
    this.kind = kind; // 'graphql' | 'http' | 'network'
    this.status = status;
    this.errors = errors || [];
    this.code = this.errors.length > 0 && this.errors[0] && this.errors[0].extensions
      ? String(this.errors[0].extensions.code || '') : '';
    this.message = 'GraphQL request failed (' + (this.code || kind) + ')';
  }
  GraphQLProblem.prototype = Object.create(Error.prototype);
  GraphQLProblem.prototype.constructor = GraphQLProblem;

  /**
   * POSTs an operation to /graphql and resolves with its data; rejects with a GraphQLProblem
   * when the network, the HTTP answer or the GraphQL result says it failed.
   */
  async function graphql(query, variables, authorization) {
    var headers = { 'content-type': 'application/json' };
    if (authorization) {
      headers.authorization = authorization;
    }
    var response;
    try {
      response = await fetch('/graphql', {
        method: 'POST',
        headers: headers,
        body: JSON.stringify({ query: query, variables: variables || {} }),
      });
    } catch (_error) {
      throw new GraphQLProblem('network', 0, []);
    }
    var body = null;
    try {
      body = await response.json();
    } catch (_error) {
      throw new GraphQLProblem('http', response.status, []);
    }
    if (body && Array.isArray(body.errors) && body.errors.length > 0) {
      throw new GraphQLProblem('graphql', response.status, body.errors);
    }
    if (!response.ok || !body || !body.data) {
      throw new GraphQLProblem('http', response.status, []);
    }
    return body.data;
  }

  function text(value) {
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : '';
  }

  function sentence(value) {
    var trimmed = text(value);
    if (trimmed === '') {
      return '';
    }
    return /[.!?…]$/.test(trimmed) ? trimmed : trimmed + '.';
  }

  /**
   * SEAT_UNAVAILABLE with reason NO_ADJACENT_BLOCK, for what reserveBestAvailable asked
   * ({ quantity, category, accessible }): "No 4 seats side by side are free in PREMIUM."
   */
  function describeNoBlock(request) {
    var quantity = Number(request.quantity) || 0;
    var where = text(request.category) ? ' in ' + text(request.category) : '';
    if (request.accessible) {
      var beside = quantity - 1;
      return 'No wheelchair space' +
        (beside > 0 ? ' with ' + beside + (beside === 1 ? ' seat' : ' seats') + ' beside it' : '') +
        ' is free' + where + '.';
    }
    return (quantity === 1 ? 'No single seat is' : 'No ' + quantity + ' seats side by side are') +
      ' free' + where + '.';
  }

  /**
   * One GraphQL error as a sentence. context.seatLabel(id) names seats; context.signedIn says
   * whether a token was sent; context.bestAvailable ({ quantity, category, accessible }) is what
   * a reserveBestAvailable asked for; context.notFound and context.limitExceeded replace the
   * sentences of those codes where the action gives them another meaning.
   */
  function describeGraphQLError(error, context) {
    context = context || {};
    var extensions = (error && typeof error === 'object' && error.extensions) || {};
    var code = text(extensions.code);
    var message = sentence(error && error.message);
    var labelOf = typeof context.seatLabel === 'function' ? context.seatLabel : function (id) { return id; };
    var seatIds = Array.isArray(extensions.seatIds) ? extensions.seatIds : [];
    var labels = seatIds.map(function (id) { return String(labelOf(id) || 'a seat'); });
    switch (code) {
      case 'SEAT_UNAVAILABLE':
        if (extensions.reason === 'NO_ADJACENT_BLOCK') {
          return context.bestAvailable
            ? describeNoBlock(context.bestAvailable)
            : 'No block of seats side by side is free any more; pick seats on the map.';
        }
        if (extensions.reason === 'CONTENDED') {
          // Every block tried went to concurrent reserves: a stampede, not a full room.
          return 'Other people were taking those seats at the same moment: try again.';
        }
        if (labels.length === 0) {
          return 'Someone else just took one of those seats, pick another seat.';
        }
        return 'Someone else just took ' + listWords(labels) + ', pick ' +
          (labels.length === 1 ? 'another seat.' : 'other seats.');
      case 'SEAT_GAP':
        return 'That would leave ' + (labels.length > 0 ? listWords(labels) : 'a seat') + ' alone; take ' +
          (labels.length > 1 ? 'them' : 'it') + ' too or pick seats that leave two together.';
      case 'BAD_USER_INPUT':
        if (extensions.rule === 'COMPANION_NEEDS_WHEELCHAIR') {
          return 'A companion seat can only be booked together with a wheelchair space: add the wheelchair space next to it.';
        }
        return message || 'The request was not accepted; check the seats you picked.';
      case 'UNAUTHENTICATED':
        return context.signedIn
          ? 'Your token was not accepted (expired, or signed by another key): pick your user again.'
          : 'Pick a user under "Who are you?" (or paste a token) first.';
      case 'FORBIDDEN':
        return 'That belongs to another user: only its owner can do this.';
      case 'NOT_FOUND':
        return context.notFound || message || 'That no longer exists.';
      case 'RESERVATION_EXPIRED':
        return 'Your hold ran out before payment and the seats went back on sale: pick them again.';
      case 'INVALID_STATE':
        return 'This reservation can no longer be changed: it is already paid, cancelled or over.';
      case 'LIMIT_EXCEEDED':
        return context.limitExceeded || 'You already hold as many reservations as allowed: pay for or cancel one first.';
      case 'SESSION_CLOSED':
        return 'This session has already started: its seats can no longer be booked.';
      case 'RATE_LIMITED': {
        var seconds = Number(extensions.retryAfterSeconds);
        return 'Too many requests just now: try again ' +
          (seconds > 0 ? 'in ' + seconds + ' second' + (seconds === 1 ? '' : 's') + '.' : 'in a moment.');
      }
      case 'RESYNC_REQUIRED':
        return 'The seat map fell behind: reload the page.';
      case 'INTERNAL_SERVER_ERROR':
        return 'Something went wrong on our side; nothing was changed. Please try again.';
      default:
        return message || 'Something went wrong; please try again.';
    }
  }

  /** Any failure of a request (GraphQLProblem, Error, string or anything else) as a sentence. */
  function describeProblem(problem, context) {
    if (problem instanceof GraphQLProblem) {
      if (problem.kind === 'network') {
        return 'Could not reach the server: check your connection and try again.';
      }
      if (problem.kind === 'http') {
        return problem.status === 503
          ? 'The server is busy right now; nothing was changed. Please try again.'
          : 'The server answered with an error (HTTP ' + problem.status + '); please try again.';
      }
      return describeGraphQLError(problem.errors[0], context);
    }
    if (Array.isArray(problem)) {
      return problem.length > 0 ? describeGraphQLError(problem[0], context) : 'Something went wrong; please try again.';
    }
    if (typeof problem === 'string') {
      return sentence(problem) || 'Something went wrong; please try again.';
    }
    if (problem && typeof problem === 'object' && 'code' in problem && 'reason' in problem) {
      return describeSocketClose(problem);
    }
    if (problem instanceof Error && text(problem.message)) {
      return sentence(problem.message);
    }
    return 'Something went wrong; please try again.';
  }

  /** Why a websocket closed for good (graphql-ws close codes), as a sentence. */
  function describeSocketClose(event) {
    switch (Number(event && event.code)) {
      case 4401:
        return 'Live updates stopped because your token expired: pick your user again.';
      case 4403:
        return 'Live updates were refused for this token: pick your user again.';
      case 4429:
        return 'Too many live connections from this browser: close some tabs, then reload.';
      case 4400:
      case 4406:
      case 4500:
        return 'Live updates stopped after a protocol error: reload the page.';
      default:
        return 'Live updates disconnected — reconnecting…';
    }
  }

  /** The user id (sub) a bearer token names, for display only; '' when it cannot be read. */
  function tokenSubject(token) {
    try {
      var part = String(token).split('.')[1];
      var json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
      var claims = JSON.parse(decodeURIComponent(Array.prototype.map.call(json, function (c) {
        return '%' + ('00' + c.charCodeAt(0).toString(16)).slice(-2);
      }).join('')));
      var admin = Array.isArray(claims.roles) && claims.roles.indexOf('admin') >= 0;
      return typeof claims.sub === 'string' ? { userId: claims.sub, admin: admin } : null;
    } catch (_error) {
      return null;
    }
  }

  /**
   * A parser of a 'text/event-stream' (the Server-Sent Events format) fed in chunks as they
   * come: push(text) returns the events the text completed, each { event, data } (event
   * 'message' when unnamed, data lines joined by "\n"). Comments (keep-alives) are skipped.
   */
  function eventStreamParser() {
    var pending = '';
    var event = '';
    var data = [];
    function line(text, events) {
      if (text === '') {
        if (data.length > 0) {
          events.push({ event: event || 'message', data: data.join('\n') });
        }
        event = '';
        data = [];
        return;
      }
      if (text.charAt(0) === ':') {
        return;
      }
      var colon = text.indexOf(':');
      var field = colon < 0 ? text : text.slice(0, colon);
      var value = colon < 0 ? '' : text.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') {
        event = value;
      } else if (field === 'data') {
        data.push(value);
      }
    }
    return {
      push: function (text) {
        var events = [];
        pending += text;
        // A lone "\r" at the end may be the first half of "\r\n": wait for the next chunk.
        var lines = pending.split(/\r\n|\r(?!$)|\n/);
        pending = lines.pop();
        lines.forEach(function (text) { line(text, events); });
        return events;
      },
    };
  }

  /**
   * One GraphQL subscription over Server-Sent Events, the graphql-sse protocol's distinct
   * connections mode: a POST of the operation with 'Accept: text/event-stream', answered by a
   * stream of 'next' events (one execution result each) and a 'complete' event. No retry of
   * its own. sink.open() when the server accepted the stream; sink.next(result) for each result
   * with data; sink.end(problem) once when it ends: the GraphQL errors (an array) when a result
   * carried errors and no data (RESYNC_REQUIRED arrives so) or the server refused the request,
   * null on 'complete', a GraphQLProblem when the request or the stream failed. Returns a
   * function that closes the stream (sink.end is not called then).
   */
  function subscribeOverEventStream(url, request, sink) {
    var controller = new AbortController();
    var ended = false;
    function finish(problem) {
      if (!ended) {
        ended = true;
        controller.abort();
        sink.end(problem);
      }
    }
    (async function () {
      var headers = { 'content-type': 'application/json', accept: 'text/event-stream' };
      if (request.authorization) {
        headers.authorization = request.authorization;
      }
      var response = await fetch(url, {
        method: 'POST',
        headers: headers,
        body: JSON.stringify({ query: request.query, variables: request.variables || {} }),
        signal: controller.signal,
        cache: 'no-store',
      });
      var type = response.headers.get('content-type') || '';
      if (!response.ok || !/^text\/event-stream/i.test(type) || !response.body) {
        var body = await response.json().catch(function () { return null; });
        finish(body && Array.isArray(body.errors) && body.errors.length > 0
          ? body.errors
          : new GraphQLProblem('http', response.status, []));
        return;
      }
      sink.open();
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var parser = eventStreamParser();
      for (;;) {
        var chunk = await reader.read();
        var events = parser.push(chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true }));
        for (var i = 0; i < events.length && !ended; i += 1) {
          if (events[i].event === 'complete') {
            finish(null);
          } else if (events[i].event === 'next') {
            var result = JSON.parse(events[i].data);
            if (result && result.data) {
              sink.next(result);
            } else {
              finish(result && Array.isArray(result.errors) ? result.errors : []);
            }
          }
        }
        if (ended) {
          return;
        }
        if (chunk.done) {
          // Cut off without a 'complete': a dropped connection.
          finish(new GraphQLProblem('network', 0, []));
          return;
        }
      }
    })().catch(function () {
      finish(new GraphQLProblem('network', 0, []));
    });
    return function () {
      if (!ended) {
        ended = true;
        controller.abort();
      }
    };
  }

  /**
   * Whether a websocket close (graphql-ws codes) is for good: a protocol error, a refused or
   * expired token, too many connections. Others (a restart, a network drop) are retried.
   */
  function isFatalSocketClose(code) {
    if ([4400, 4401, 4406, 4409, 4429, 4500, 4004, 4005].indexOf(code) >= 0) {
      return true;
    }
    return code >= 1000 && code <= 1999 && [1000, 1001, 1005, 1006, 1012, 1013, 1014].indexOf(code) < 0;
  }

  /**
   * What to do when a live subscription ended with problem (as subscribeOverEventStream or
   * graphql-ws report it): 'resync' for RESYNC_REQUIRED (read the data again, then subscribe from
   * there), 'stop' when trying again cannot help (GraphQL errors, a fatal close, a refused
   * request), 'retry' for anything else (a drop, a server restart, rate limits, a busy server).
   */
  function liveEnding(problem) {
    if (Array.isArray(problem)) {
      var codes = problem.map(function (error) {
        return error && error.extensions ? String(error.extensions.code || '') : '';
      });
      if (codes.indexOf('RESYNC_REQUIRED') >= 0) {
        return 'resync';
      }
      return codes.length > 0 && codes.every(function (code) { return code === 'RATE_LIMITED'; }) ? 'retry' : 'stop';
    }
    if (problem instanceof GraphQLProblem && problem.kind === 'http') {
      return problem.status === 408 || problem.status === 429 || problem.status >= 500 ? 'retry' : 'stop';
    }
    if (problem && typeof problem === 'object' && 'code' in problem && 'reason' in problem) {
      return isFatalSocketClose(Number(problem.code)) ? 'stop' : 'retry';
    }
    return 'retry';
  }

  /**
   * A capped, jittered backoff for graphql-ws reconnections: 0.5 s doubling to 5 s, so a
   * dropped connection comes back quickly and a dead server is not hammered.
   */
  function retryWait(retries) {
    var delay = Math.min(500 * Math.pow(2, retries), 5000);
    return new Promise(function (resolve) { setTimeout(resolve, delay / 2 + Math.random() * delay / 2); });
  }

  return {
    formatMoney: formatMoney,
    formatCountdown: formatCountdown,
    listWords: listWords,
    graphql: graphql,
    GraphQLProblem: GraphQLProblem,
    describeGraphQLError: describeGraphQLError,
    describeProblem: describeProblem,
    describeSocketClose: describeSocketClose,
    tokenSubject: tokenSubject,
    retryWait: retryWait,
    eventStreamParser: eventStreamParser,
    subscribeOverEventStream: subscribeOverEventStream,
    isFatalSocketClose: isFatalSocketClose,
    liveEnding: liveEnding,
  };
})();
`;
