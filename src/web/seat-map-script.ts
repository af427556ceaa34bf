/**
 * Browser code of the seat-map page, served as `/demo/assets/seat-map.js`. It reads the session
 * id and whether dev tokens are offered from `<body data-…>`, draws the seats where their `x`/`y`
 * put them (gaps stay empty), colours them by category with a price legend, keeps them live
 * with `seatStatusChanged` without missing a change (the map's `mapVersion` is read with the
 * seats; each change is applied only when it is the next version; after a drop the page
 * resumes with `afterMapVersion`, and reads the map again only on `RESYNC_REQUIRED`), over
 * graphql-ws or, with `?transport=sse`, Server-Sent Events, and runs
 * the booking: selection and total, reserve (seats picked on the map, or the best block the
 * server finds for N), the hold's countdown (following `extendReservation` and
 * `reservationUpdated`), extend, pay and cancel. A selection the gap rule refuses is shown as
 * a sentence and by outlining the seats it would leave alone.
 */
export const SEAT_MAP_SCRIPT = String.raw`'use strict';
(function () {
  var Demo = PoltronaDemo;
  var $ = function (id) { return document.getElementById(id); };
  var sessionId = document.body.dataset.sessionId;
  var devTokens = document.body.dataset.devTokens === 'true';
  var wsUrl = location.origin.replace(/^http/, 'ws') + '/graphql';
  var TOKEN_KEY = 'poltrona-demo-token';
  // Category colours: never the orange of held seats or the grey of sold ones.
  var PALETTE = ['#2f9e5b', '#7c3aed', '#0e7490', '#be185d', '#4d7c0f', '#1e40af', '#9f1239', '#0f766e'];
  var KIND_TEXT = { WHEELCHAIR: 'wheelchair space', COMPANION: 'companion seat' };
  var KIND_ICON = { WHEELCHAIR: '\u267F', COMPANION: '\u2295' };
  var STATUS_TEXT = { AVAILABLE: 'available', RESERVED: 'held', SOLD: 'sold' };
  var RESERVATION_TEXT = {
    PENDING: 'Held for you', CONFIRMED: 'Paid', EXPIRED: 'Expired', CANCELLED: 'Cancelled',
  };
  var SEAT_FIELDS = 'id label row number status version category kind priceCents x y';
  var RESERVATION_FIELDS = 'id status expiresAt createdAt totalCents seats { ' + SEAT_FIELDS + ' }';

  var seats = new Map();      // id -> seat (with its button)
  var colours = new Map();    // category -> colour
  var selected = new Set();
  var loneSeatIds = new Set(); // seats the last refused selection would have left alone
  var token = '';
  // { id, status, expiresAt, deadline (local ms), seatIds, labels, totalCents, extendable }
  var reservation = null;
  var reservationWatch = null;
  var busy = false;

  // ---- messages -------------------------------------------------------------------------
  function problemContext() {
    return {
      signedIn: token !== '',
      seatLabel: function (id) { var seat = seats.get(id); return seat ? seat.label : 'a seat'; },
    };
  }
  function showError(problem, context) {
    var text = problem === undefined ? '' : Demo.describeProblem(problem, Object.assign(problemContext(), context));
    $('error').textContent = text;
    if (text) {
      $('message').textContent = '';
    }
  }
  function showMessage(text) {
    $('message').textContent = text || '';
  }

  // ---- identity ---------------------------------------------------------------------------
  function authorization() {
    return token ? 'Bearer ' + token : undefined;
  }
  function setToken(value) {
    var next = String(value || '').trim().replace(/^Bearer\s+/i, '');
    var changed = next !== token;
    token = next;
    if ($('token').value.trim().replace(/^Bearer\s+/i, '') !== token) {
      $('token').value = token;
    }
    try {
      if (token) { sessionStorage.setItem(TOKEN_KEY, token); } else { sessionStorage.removeItem(TOKEN_KEY); }
    } catch (_error) { /* storage off: the token lasts as long as the page */ }
    var subject = token ? Demo.tokenSubject(token) : null;
    var identity = $('identity');
    identity.dataset.user = subject ? subject.userId : '';
    identity.textContent = !token
      ? 'Not signed in: pick a user to reserve seats.'
      : subject
        ? 'Signed in as ' + subject.userId + (subject.admin ? ' (admin)' : '') + '.'
        : 'Using the pasted token (its user could not be read).';
    // A hold belongs to whoever made it: another user must not see it as theirs.
    if (changed && reservation) {
      forgetReservation();
    }
  }
  async function pickUser(userId, admin) {
    showError();
    try {
      var response = await fetch('/demo/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: userId, admin: admin }),
      });
      var body = await response.json().catch(function () { return {}; });
      if (!response.ok || typeof body.token !== 'string') {
        throw (typeof body.error === 'string' ? body.error : 'Could not get a token for ' + userId);
      }
      setToken(body.token);
    } catch (problem) {
      showError(problem instanceof TypeError ? new Demo.GraphQLProblem('network', 0, []) : problem);
    }
  }
  $('token').addEventListener('input', function () { setToken($('token').value); });
  if (devTokens) {
    $('user-picker').addEventListener('change', function () {
      var option = $('user-picker').selectedOptions[0];
      if (option && option.value) {
        pickUser(option.value, option.dataset.admin === 'true');
      }
    });
    $('user-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var userId = $('user-id').value.trim();
      if (!/^[\w.@-]{1,100}$/.test(userId)) {
        showError('A user id is 1 to 100 letters, digits, ".", "@", "_" or "-".');
        return;
      }
      $('user-picker').value = '';
      pickUser(userId, false);
    });
  }

  // ---- the map ----------------------------------------------------------------------------
  function colourOf(category) {
    if (!colours.has(category)) {
      colours.set(category, PALETTE[colours.size % PALETTE.length]);
    }
    return colours.get(category);
  }
  function drawLegend(prices) {
    var legend = $('legend');
    legend.textContent = '';
    prices.forEach(function (price) {
      var item = document.createElement('span');
      item.className = 'legend-item';
      item.dataset.category = price.category;
      item.dataset.priceCents = String(price.priceCents);
      var swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.setProperty('--category', colourOf(price.category));
      var label = document.createElement('span');
      label.textContent = price.category + ' · ' + Demo.formatMoney(price.priceCents);
      item.append(swatch, label);
      legend.append(item);
    });
  }
  function drawCategories(prices) {
    var select = $('best-category');
    while (select.options.length > 1) {
      select.remove(1);
    }
    prices.forEach(function (price) {
      var option = document.createElement('option');
      option.value = price.category;
      option.textContent = price.category + ' · ' + Demo.formatMoney(price.priceCents);
      select.append(option);
    });
  }
  function buildMap(list) {
    var grid = $('grid');
    grid.textContent = '';
    seats.clear();
    var columns = 1;
    var rowLabels = new Map();
    list.forEach(function (seat) {
      columns = Math.max(columns, seat.x + 1);
      if (!rowLabels.has(seat.y)) {
        rowLabels.set(seat.y, seat.row);
      }
    });
    grid.style.gridTemplateColumns = '28px repeat(' + columns + ', 34px)';
    rowLabels.forEach(function (row, y) {
      var label = document.createElement('div');
      label.className = 'row-label';
      label.textContent = row;
      label.setAttribute('aria-hidden', 'true');
      label.style.gridColumn = '1';
      label.style.gridRow = String(y + 1);
      grid.append(label);
    });
    list.forEach(function (data) {
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'seat';
      button.dataset.seat = data.label;
      button.dataset.seatId = data.id;
      button.dataset.category = data.category;
      button.dataset.kind = data.kind;
      button.style.gridColumn = String(data.x + 2);
      button.style.gridRow = String(data.y + 1);
      button.style.setProperty('--category', colourOf(data.category));
      var name = document.createElement('span');
      name.textContent = data.label;
      button.append(name);
      if (KIND_ICON[data.kind]) {
        var icon = document.createElement('span');
        icon.className = 'icon';
        icon.setAttribute('aria-hidden', 'true');
        icon.textContent = KIND_ICON[data.kind];
        button.append(icon);
      }
      button.addEventListener('click', function () { toggle(data.id); });
      var seat = Object.assign({}, data, { button: button });
      seats.set(seat.id, seat);
      grid.append(button);
      drawSeat(seat);
    });
  }
  function isMine(seat) {
    return Boolean(reservation && reservation.status === 'PENDING' && reservation.seatIds.indexOf(seat.id) >= 0);
  }
  function drawSeat(seat) {
    var button = seat.button;
    var mine = isMine(seat);
    var lone = loneSeatIds.has(seat.id);
    button.dataset.status = seat.status;
    button.dataset.lone = String(lone);
    button.classList.toggle('lone', lone);
    button.dataset.version = String(seat.version);
    button.classList.toggle('selected', selected.has(seat.id));
    button.classList.toggle('mine', mine);
    button.setAttribute('aria-pressed', selected.has(seat.id) ? 'true' : 'false');
    button.setAttribute('aria-disabled', seat.status === 'AVAILABLE' ? 'false' : 'true');
    var words = [seat.label, seat.category, Demo.formatMoney(seat.priceCents)];
    if (KIND_TEXT[seat.kind]) {
      words.push(KIND_TEXT[seat.kind]);
    }
    words.push(mine ? 'held for you' : STATUS_TEXT[seat.status] || seat.status);
    if (lone) {
      words.push('would be left alone');
    }
    var description = words.join(' · ');
    button.setAttribute('aria-label', description);
    button.title = description;
  }
  // A seat's change is applied only if it is newer than what we hold: answers to our own
  // requests and map changes may arrive in either order. A map read again after a resync
  // replaces what the page has (replace).
  function applySeat(change, replace) {
    var seat = seats.get(change.id);
    if (!seat || (seat.version >= change.version && !(replace && seat.version !== change.version))) {
      return;
    }
    seat.status = change.status;
    seat.version = change.version;
    if (seat.status !== 'AVAILABLE' && selected.delete(seat.id)) {
      drawSelection();
    }
    drawSeat(seat);
  }
  function toggle(seatId) {
    var seat = seats.get(seatId);
    if (!seat || seat.status !== 'AVAILABLE') {
      return;
    }
    if (!selected.delete(seatId)) {
      selected.add(seatId);
      // Taken too, it is no longer left alone.
      loneSeatIds.delete(seatId);
    }
    drawSeat(seat);
    drawSelection();
  }
  function byPlace(a, b) {
    return a.y - b.y || a.x - b.x;
  }
  function markLone(seatIds) {
    var before = loneSeatIds;
    loneSeatIds = new Set(seatIds.filter(function (id) { return seats.has(id); }));
    before.forEach(function (id) { drawSeat(seats.get(id)); });
    loneSeatIds.forEach(function (id) { drawSeat(seats.get(id)); });
  }
  function drawSelection() {
    var list = Array.from(selected, function (id) { return seats.get(id); }).sort(byPlace);
    var cents = list.reduce(function (sum, seat) { return sum + seat.priceCents; }, 0);
    $('selected').textContent = list.length > 0
      ? list.map(function (seat) { return seat.label; }).join(', ')
      : 'none yet: click seats on the map';
    $('total').textContent = Demo.formatMoney(cents);
    $('total').dataset.cents = String(cents);
    $('reserve').disabled = busy || list.length === 0;
    $('best').disabled = busy;
  }
  function bestQuantity() {
    var value = $('best-quantity').value.trim();
    return /^\d{1,2}$/.test(value) ? Number(value) : NaN;
  }
  function drawBestButton() {
    var quantity = bestQuantity();
    $('best').textContent = quantity === 1
      ? 'Hold the best seat'
      : 'Hold the best ' + (quantity >= 1 && quantity <= 10 ? quantity + ' ' : '') + 'seats';
  }

  // ---- the reservation --------------------------------------------------------------------
  function drawReservation() {
    var status = reservation ? reservation.status : '';
    $('status').dataset.status = status;
    $('status').textContent = reservation
      ? RESERVATION_TEXT[status] + ': ' + reservation.labels.join(', ') + ' · ' + Demo.formatMoney(reservation.totalCents)
      : 'no reservation yet';
    var pending = status === 'PENDING';
    $('confirm').disabled = busy || !pending || secondsLeft() === 0;
    $('extend').disabled = busy || !pending || secondsLeft() === 0 || !reservation.extendable;
    $('cancel').disabled = busy || !pending;
    $('countdown').dataset.expiresAt = pending ? reservation.expiresAt : '';
    seats.forEach(drawSeat);
    tick();
  }
  function setReservation(data, requestedAt) {
    var labels = data.seats.slice().sort(byPlace).map(function (seat) { return seat.label; });
    // The hold's length by the server's clock, counted from when we asked: a browser clock
    // that is off does not matter, and the countdown never promises time that is not there.
    var deadline = requestedAt + (Date.parse(data.expiresAt) - Date.parse(data.createdAt));
    reservation = {
      id: data.id,
      status: data.status,
      expiresAt: data.expiresAt,
      deadline: deadline,
      seatIds: data.seats.map(function (seat) { return seat.id; }),
      labels: labels,
      totalCents: data.totalCents,
      extendable: true,
    };
    drawReservation();
  }
  // The hold now ends at expiresAt (an extension, answered by extendReservation or told by
  // reservationUpdated, in either order and maybe twice): the countdown moves by as much as the
  // server moved the end. Ends only move later, so an older word on it changes nothing.
  function moveHoldEnd(expiresAt) {
    var later = Date.parse(expiresAt) - Date.parse(reservation.expiresAt);
    if (later > 0) {
      reservation.deadline += later;
      reservation.expiresAt = expiresAt;
    }
  }
  function forgetReservation() {
    if (reservationWatch) {
      reservationWatch();
      reservationWatch = null;
    }
    reservation = null;
    drawReservation();
  }
  function secondsLeft() {
    if (!reservation || reservation.status !== 'PENDING') {
      return null;
    }
    return Math.max(0, Math.ceil((reservation.deadline - Date.now()) / 1000));
  }
  function tick() {
    var countdown = $('countdown');
    var left = secondsLeft();
    var status = reservation ? reservation.status : '';
    if (left === null) {
      countdown.dataset.secondsLeft = '';
      countdown.textContent = status === 'EXPIRED'
        ? 'Your hold ended before payment, so its seats went back on sale.'
        : '';
      return;
    }
    if (countdown.dataset.secondsLeft === String(left)) {
      return;
    }
    countdown.dataset.secondsLeft = String(left);
    countdown.textContent = left > 0
      ? Demo.formatCountdown(left) + ' left to pay. At 0:00 the seats go back on sale.'
      : 'Time is up: the seats are going back on sale.';
    $('confirm').disabled = busy || left === 0;
    $('extend').disabled = busy || left === 0 || !reservation.extendable;
  }
  setInterval(tick, 250);

  function watchReservation(id) {
    reservationWatch = keepSubscribed(function () {
      return {
        query: 'subscription ($id: ID!) { reservationUpdated(reservationId: $id) { id status expiresAt } }',
        variables: { id: id },
        authorization: authorization(),
      };
    }, {
      open: function () {},
      next: function (result) {
        var data = result && result.data && result.data.reservationUpdated;
        if (data && reservation && data.id === reservation.id && reservation.status === 'PENDING') {
          if (data.status === 'PENDING') {
            moveHoldEnd(data.expiresAt);
          } else {
            reservation.status = data.status;
          }
          drawReservation();
        } else if (result && result.errors) {
          showError(result.errors);
        }
      },
      dropped: function () {},
      ended: function (problem) { showError(problem); },
    });
  }

  async function run(work) {
    showError();
    markLone([]);
    busy = true;
    drawSelection();
    drawReservation();
    try {
      await work();
    } finally {
      busy = false;
      drawSelection();
      drawReservation();
    }
  }

  $('reserve').addEventListener('click', function () {
    return run(async function () {
      if (selected.size === 0) {
        showError('Pick at least one seat on the map first.');
        return;
      }
      if (!token) {
        showError('Pick a user under "Who are you?" (or paste a token) before reserving.');
        return;
      }
      var seatIds = Array.from(selected);
      var requestedAt = Date.now();
      try {
        var data = await Demo.graphql(
          'mutation ($input: ReserveInput!) { reserve(input: $input) { ' + RESERVATION_FIELDS + ' } }',
          { input: { sessionId: sessionId, seatIds: seatIds } },
          authorization());
        holdMade(data.reserve, requestedAt);
        showMessage('Seats held: pay before the countdown ends.');
      } catch (problem) {
        reserveRefused(problem);
      }
    });
  });
  $('best-quantity').addEventListener('input', drawBestButton);
  $('best-form').addEventListener('submit', function (event) {
    event.preventDefault();
    return run(async function () {
      var quantity = bestQuantity();
      if (!(quantity >= 1 && quantity <= 10)) {
        showError('Ask for 1 to 10 seats side by side.');
        return;
      }
      if (!token) {
        showError('Pick a user under "Who are you?" (or paste a token) before reserving.');
        return;
      }
      var request = {
        quantity: quantity,
        category: $('best-category').value || null,
        accessible: $('best-accessible').checked,
      };
      var requestedAt = Date.now();
      try {
        var data = await Demo.graphql(
          'mutation ($input: BestAvailableInput!) { reserveBestAvailable(input: $input) { ' + RESERVATION_FIELDS + ' } }',
          { input: Object.assign({ sessionId: sessionId }, request) },
          authorization());
        holdMade(data.reserveBestAvailable, requestedAt);
        showMessage('The best seats are held for you: ' + Demo.listWords(reservation.labels) +
          '. Pay before the countdown ends.');
      } catch (problem) {
        reserveRefused(problem, { bestAvailable: request });
      }
    });
  });
  $('extend').addEventListener('click', function () {
    var held = reservation;
    return run(async function () {
      if (!held || held.status !== 'PENDING') {
        return;
      }
      try {
        var data = await Demo.graphql(
          'mutation ($id: ID!) { extendReservation(reservationId: $id) { id status expiresAt } }',
          { id: held.id },
          authorization());
        if (reservation === held && data.extendReservation.status === 'PENDING') {
          moveHoldEnd(data.extendReservation.expiresAt);
          showMessage('Hold extended: ' + Demo.formatCountdown(secondsLeft()) + ' left to pay.');
        }
      } catch (problem) {
        showError(problem, { limitExceeded: 'This hold cannot be extended any more.' });
        if (problem && problem.code === 'LIMIT_EXCEEDED') {
          held.extendable = false;
        } else if (problem && problem.code === 'RESERVATION_EXPIRED') {
          held.status = 'EXPIRED';
        }
      }
    });
  });
  // A new hold (from reserve or reserveBestAvailable) replaces the one shown, if any.
  function holdMade(data, requestedAt) {
    if (reservationWatch) {
      reservationWatch();
      reservationWatch = null;
    }
    selected.clear();
    data.seats.forEach(applySeat);
    setReservation(data, requestedAt);
    watchReservation(data.id);
  }
  function reserveRefused(problem, context) {
    showError(problem, context);
    if (problem && problem.code === 'SEAT_GAP') {
      var extensions = problem.errors[0].extensions || {};
      markLone(Array.isArray(extensions.seatIds) ? extensions.seatIds : []);
    }
    if (problem && (problem.code === 'SEAT_UNAVAILABLE' || problem.code === 'SEAT_GAP') && !feedOpen) {
      // Not live just now, so the map may be behind: read it again so the taken seats show as
      // such. (When live, the change that took them is on its way.)
      refreshSeats();
    }
  }

  $('confirm').addEventListener('click', function () {
    return run(async function () {
      try {
        var data = await Demo.graphql(
          'mutation ($id: ID!) { confirmPayment(reservationId: $id) { id amountCents seats { id status version } } }',
          { id: reservation.id },
          authorization());
        data.confirmPayment.seats.forEach(applySeat);
        reservation.status = 'CONFIRMED';
        reservation.totalCents = data.confirmPayment.amountCents;
        showMessage('Paid ' + Demo.formatMoney(data.confirmPayment.amountCents) + ' for ' +
          Demo.listWords(reservation.labels) + '. Enjoy the film!');
      } catch (problem) {
        showError(problem);
        if (problem && problem.code === 'RESERVATION_EXPIRED') {
          reservation.status = 'EXPIRED';
        }
      }
    });
  });
  $('cancel').addEventListener('click', function () {
    return run(async function () {
      try {
        var data = await Demo.graphql(
          'mutation ($id: ID!) { cancelReservation(reservationId: $id) { id status seats { id status version } } }',
          { id: reservation.id },
          authorization());
        data.cancelReservation.seats.forEach(applySeat);
        reservation.status = data.cancelReservation.status;
        showMessage('Cancelled: ' + Demo.listWords(reservation.labels) + ' are back on sale.');
      } catch (problem) {
        showError(problem);
      }
    });
  });

  // ---- live updates -----------------------------------------------------------------------
  // The map is live and gapless: the page holds the map's mapVersion, applies each change only
  // when it is the next version, and after a drop subscribes again after the version it holds,
  // so the server replays what was missed instead of the page reading the whole map again.
  // ?transport=sse follows the same subscriptions over Server-Sent Events (graphql-sse,
  // distinct connections, on /graphql/stream) instead of graphql-ws.
  var transport = new URLSearchParams(location.search).get('transport') === 'sse' ? 'sse' : 'ws';
  var mapVersion = null;    // the session's map version the seats show
  var stopFeed = null;      // ends the seat map's subscription (and its retries)
  var feedOpen = false;     // the server has taken the current subscription
  var resyncing = false;

  /**
   * One subscription over the page's transport, with no retry of its own: sink.open() when the
   * server took it, sink.next(result) for each result, sink.end(problem) once when it ends (GraphQL
   * errors as an array, a close event or an error, null when the server completed it). Returns a
   * function that ends it (sink.end is not called then).
   */
  function openSubscription(request, sink) {
    if (transport === 'sse') {
      return Demo.subscribeOverEventStream('/graphql/stream', request, sink);
    }
    var ended = false;
    var client = graphqlWs.createClient({
      url: wsUrl,
      connectionParams: request.authorization ? { authorization: request.authorization } : {},
      retryAttempts: 0,
      on: { connected: function () { if (!ended) { sink.open(); } } },
    });
    var unsubscribe = function () {};
    function close() {
      ended = true;
      unsubscribe();
      client.dispose();
    }
    unsubscribe = client.subscribe({ query: request.query, variables: request.variables }, {
      next: function (result) {
        if (ended) {
          return;
        }
        if (result && !result.data && Array.isArray(result.errors)) {
          // Refused when subscribing (RESYNC_REQUIRED among others): graphql-ws delivers that
          // as a result with errors and no data, then completes; it ends the subscription.
          close();
          sink.end(result.errors);
          return;
        }
        sink.next(result);
      },
      error: function (problem) {
        if (!ended) {
          close();
          sink.end(problem);
        }
      },
      complete: function () {
        if (!ended) {
          close();
          sink.end(null);
        }
      },
    });
    return function () {
      if (!ended) {
        close();
      }
    };
  }

  /**
   * Keeps a subscription open across drops: each attempt subscribes with request() as it is
   * then, and after a drop the next one follows a capped backoff. handlers.open() when an
   * attempt is taken, handlers.next(result), handlers.dropped(problem) when one drops (a retry
   * follows), handlers.ended(problem, verdict) when it ends for good ('stop') or must be read
   * again ('resync'): no retry then. Returns a function that stops it all.
   */
  function keepSubscribed(request, handlers) {
    var stopped = false;
    var retries = 0;
    var stopAttempt = null;
    function attempt() {
      if (stopped) {
        return;
      }
      stopAttempt = openSubscription(request(), {
        open: function () {
          retries = 0;
          handlers.open();
        },
        next: function (result) { handlers.next(result); },
        end: function (problem) {
          stopAttempt = null;
          var verdict = Demo.liveEnding(problem);
          if (verdict === 'retry') {
            handlers.dropped(problem);
            Demo.retryWait(retries).then(attempt);
            retries += 1;
          } else {
            stopped = true;
            handlers.ended(problem, verdict);
          }
        },
      });
    }
    attempt();
    return function () {
      stopped = true;
      if (stopAttempt) {
        stopAttempt();
        stopAttempt = null;
      }
    };
  }

  function setLive(state, text) {
    $('live').dataset.state = state;
    $('live').textContent = text;
  }
  function showVersion() {
    $('live').dataset.mapVersion = String(mapVersion);
    if (feedOpen) {
      setLive('live', 'Up to date (v' + mapVersion + ')');
    }
  }

  // The seat map's changes after the version the page holds, replayed first, then live.
  function follow() {
    feedOpen = false;
    stopFeed = keepSubscribed(function () {
      return {
        query: 'subscription ($id: ID!, $after: Int) { seatStatusChanged(sessionId: $id, afterMapVersion: $after) { ' +
          'mapVersion seats { id status version } } }',
        variables: { id: sessionId, after: mapVersion },
      };
    }, {
      open: function () {
        feedOpen = true;
        showVersion();
      },
      next: function (result) {
        var change = result && result.data && result.data.seatStatusChanged;
        if (change) {
          applyChange(change);
        }
      },
      dropped: function () {
        feedOpen = false;
        setLive('reconnecting', 'Reconnecting…');
      },
      ended: function (problem, verdict) {
        feedOpen = false;
        stopFeed = null;
        if (verdict === 'resync') {
          resync();
        } else {
          setLive('stopped', Array.isArray(problem)
            ? 'Live updates stopped: ' + Demo.describeProblem(problem)
            : Demo.describeProblem(problem));
        }
      },
    });
  }

  function applyChange(change) {
    if (change.mapVersion <= mapVersion) {
      return; // already in the map (read after it was made)
    }
    if (change.mapVersion > mapVersion + 1) {
      // A version was skipped (the server promises it is not): the map cannot be trusted.
      resync();
      return;
    }
    change.seats.forEach(function (seat) { applySeat(seat); });
    mapVersion = change.mapVersion;
    showVersion();
  }

  function readSeats() {
    return Demo.graphql('query ($id: ID!) { session(id: $id) { mapVersion seats { id status version } } }', { id: sessionId })
      .then(function (data) {
        if (!data.session) {
          throw new Demo.GraphQLProblem('graphql', 200, [{ message: '', extensions: { code: 'NOT_FOUND' } }]);
        }
        return data.session;
      });
  }

  // The server cannot resume from the version the page holds (RESYNC_REQUIRED: too old, or not
  // one it knows), or a change was skipped: read the map again, then follow from its version.
  async function resync() {
    if (resyncing) {
      return;
    }
    resyncing = true;
    if (stopFeed) {
      stopFeed();
      stopFeed = null;
    }
    feedOpen = false;
    setLive('reconnecting', 'Reading the seat map again…');
    for (var retries = 0; ; retries += 1) {
      try {
        var session = await readSeats();
        // The map as read replaces the page's: its version is the one to follow from.
        session.seats.forEach(function (seat) { applySeat(seat, true); });
        mapVersion = session.mapVersion;
        $('live').dataset.mapVersion = String(mapVersion);
        break;
      } catch (_problem) {
        setLive('reconnecting', 'Reconnecting…');
        await Demo.retryWait(retries);
      }
    }
    resyncing = false;
    follow();
  }

  // A reserve was refused while the map was not live: read it again (seats by their versions;
  // the page then follows from the newer of the two map versions).
  async function refreshSeats() {
    try {
      var session = await readSeats();
      session.seats.forEach(function (seat) { applySeat(seat); });
      if (session.mapVersion > mapVersion) {
        mapVersion = session.mapVersion;
        showVersion();
      }
    } catch (_problem) {
      // The next change or reconnection brings it; the error shown is the user's own.
    }
  }

  async function load() {
    var data = await Demo.graphql(
      'query ($id: ID!) { session(id: $id) { id movie room startsAt endsAt priceCents prices { category priceCents } ' +
        'auditorium { name } mapVersion seats { ' + SEAT_FIELDS + ' } } }',
      { id: sessionId });
    var session = data.session;
    if (!session) {
      throw new Demo.GraphQLProblem('graphql', 200, [{ message: '', extensions: { code: 'NOT_FOUND' } }]);
    }
    document.title = session.movie + ' · ' + session.room + ' · Poltrona';
    $('title').textContent = session.movie;
    var time = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });
    var end = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
    $('subtitle').textContent = session.room + ' · ' + time.format(new Date(session.startsAt)) +
      '–' + end.format(new Date(session.endsAt));
    if (Date.parse(session.startsAt) <= Date.now()) {
      $('message').textContent = '';
      showError('This session has already started: its seats can no longer be booked.');
    }
    drawLegend(session.prices);
    drawCategories(session.prices);
    buildMap(session.seats);
    drawSelection();
    drawReservation();
    mapVersion = session.mapVersion;
    $('live').dataset.mapVersion = String(mapVersion);
    follow();
  }

  var stored = '';
  try { stored = sessionStorage.getItem(TOKEN_KEY) || ''; } catch (_error) { stored = ''; }
  setToken(stored);
  drawBestButton();
  drawSelection();
  drawReservation();
  load().catch(function (problem) {
    $('subtitle').textContent = '';
    setLive('stopped', 'No live updates: the seat map did not load.');
    showError(problem, { notFound: 'This session does not exist (it may have been removed): pick one from the list of sessions.' });
  });
})();
`;
