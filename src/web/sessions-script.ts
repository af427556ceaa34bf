/**
 * Browser code of the sessions page (`/`), served as `/demo/assets/sessions.js`: the upcoming
 * sessions from the `sessions` query (from now on, by start time), a page at a time, each with
 * a link to its seat map.
 */
export const SESSIONS_SCRIPT = String.raw`'use strict';
(function () {
  var Demo = PoltronaDemo;
  var $ = function (id) { return document.getElementById(id); };
  var PAGE_SIZE = 20;
  var from = new Date().toISOString();
  var after = null;
  var shown = 0;
  var day = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
  var time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  var QUERY = 'query ($first: Int, $after: String, $from: DateTime) { sessions(first: $first, after: $after, from: $from) { ' +
    'edges { node { id movie room startsAt endsAt priceCents availableSeats auditorium { name } } } ' +
    'pageInfo { hasNextPage endCursor } } }';

  function cell(row, text, className) {
    var td = document.createElement('td');
    td.textContent = text;
    if (className) {
      td.className = className;
    }
    row.append(td);
    return td;
  }

  function addSession(session) {
    var row = document.createElement('tr');
    row.dataset.sessionId = session.id;
    var starts = new Date(session.startsAt);
    cell(row, session.movie, 'movie');
    cell(row, session.room, 'room');
    cell(row, day.format(starts) + ', ' + time.format(starts) + '–' + time.format(new Date(session.endsAt)), 'starts');
    cell(row, String(session.availableSeats), 'number available');
    cell(row, 'from ' + Demo.formatMoney(session.priceCents), 'number price');
    var link = document.createElement('a');
    link.href = '/demo/sessions/' + encodeURIComponent(session.id);
    link.textContent = 'Seat map';
    link.setAttribute('aria-label', 'Seat map of ' + session.movie + ', ' + day.format(starts) + ' ' + time.format(starts));
    cell(row, '', 'link').append(link);
    $('sessions-body').append(row);
    shown += 1;
  }

  async function loadMore() {
    $('more').disabled = true;
    $('error').textContent = '';
    try {
      var data = await Demo.graphql(QUERY, { first: PAGE_SIZE, after: after, from: from });
      data.sessions.edges.forEach(function (edge) { addSession(edge.node); });
      after = data.sessions.pageInfo.endCursor;
      $('more').hidden = !data.sessions.pageInfo.hasNextPage;
      $('empty').hidden = shown > 0;
      $('sessions').hidden = shown === 0;
      $('sessions').dataset.loaded = 'true';
    } catch (problem) {
      $('error').textContent = 'The sessions could not be loaded. ' + Demo.describeProblem(problem);
    } finally {
      $('more').disabled = false;
    }
  }

  $('more').addEventListener('click', function () { loadMore(); });
  loadMore();
})();
`;
