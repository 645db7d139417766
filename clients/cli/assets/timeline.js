(function () {
  'use strict';
  var body = document.body;
  function report(message) {
    var previous = body.dataset.errors;
    body.dataset.errors = (previous ? previous + '\n' : '') + message;
  }
  window.onerror = function (message, source, line, column) {
    report(String(message) + (line ? ' (line ' + line + ':' + column + ')' : ''));
  };

  var data = JSON.parse(document.getElementById('plantrail-data').textContent);
  var areas = data.areas || [];
  var decisionsById = {};
  (data.decisions || []).forEach(function (d) { decisionsById[d.id] = d; });
  var rows = Array.prototype.slice.call(document.querySelectorAll('.area-row'));
  if (rows.length !== areas.length) {
    report('the page has ' + rows.length + ' area rows but the data ' +
        areas.length + ' areas');
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function filled(value) {
    return !(value === undefined || value === null || value === '' ||
        (Array.isArray(value) && value.length === 0));
  }
  function facts(parent, pairs) {
    var dl = el('dl', 'facts');
    pairs.forEach(function (pair) {
      if (!filled(pair[1])) return;
      dl.appendChild(el('dt', '', pair[0]));
      dl.appendChild(el('dd', '', Array.isArray(pair[1]) ? pair[1].join('\n') : pair[1]));
    });
    if (dl.childNodes.length) parent.appendChild(dl);
  }
  function section(parent, title) {
    parent.appendChild(el('h3', '', title));
  }

  var panel = document.getElementById('panel');
  var panelTitle = document.getElementById('panel-title');
  var panelBody = document.getElementById('panel-body');
  var openRow = null;

  function fillPanel(a) {
    panelTitle.textContent = '';
    panelTitle.appendChild(el('span', 'pid', a.id));
    panelTitle.appendChild(document.createTextNode(a.title));
    panelBody.textContent = '';
    var status = a.closed ? a.outcome : a.health;
    if (a.closed && a.outcome_text) status += ': ' + a.outcome_text;
    var slip = a.slip_days === null || a.slip_days === undefined || a.slip_days === 0 ? '' :
        (a.slip_days > 0 ? '+' : '') + a.slip_days + ' days against baseline';
    facts(panelBody, [
      ['Support area', a.support_area], ['Group', a.group],
      ['Phase', a.phase], [a.closed ? 'Outcome' : 'Health', status],
      ['Planned', a.planned || 'no planned dates'],
      ['Baseline', a.baseline], ['Slip', slip],
      ['Before last revision', a.previous],
      ['Schedule revisions', a.schedule_revisions || ''],
      ['Overdue', a.overdue ? 'yes: planned end has passed' : '']
    ]);
    section(panelBody, 'About');
    facts(panelBody, [
      ['Rationale', a.rationale], ['Desired effect', a.desired_effect],
      ['Responsible units', (a.responsible_units || []).join(', ')],
      ['Participating units', (a.participating_units || []).join(', ')],
      ['Dependencies', a.dependencies],
      ['Registered', a.registered], ['Last updated', a.updated]
    ]);
    if (a.report) {
      section(panelBody, 'Latest status report');
      facts(panelBody, [
        ['Reported on', a.report.reported_on], ['Report', a.report.narrative],
        ['Next report due', a.report.next_due], ['Reports so far', a.report.count]
      ]);
    }
    var decisions = (a.decisions || []).map(function (id) { return decisionsById[id]; })
        .filter(Boolean);
    if (decisions.length) {
      section(panelBody, 'Decisions');
      decisions.forEach(function (d) {
        facts(panelBody, [[d.decided_on || 'undated',
          [d.reference || d.id, d.body, d.title, d.outcome].filter(filled).join('\n')]]);
      });
    }
    section(panelBody, 'History (newest first)');
    var history = a.history || [];
    if (!history.length) {
      panelBody.appendChild(el('p', 'empty', 'No history was included in this report.'));
      return;
    }
    var list = el('ol', 'hist');
    history.forEach(function (h) {
      var item = el('li');
      var when = [h.date, h.actor, h.recorded_at ? 'recorded ' + h.recorded_at : '',
        '#' + h.position].filter(filled).join(' \u00b7 ');
      item.appendChild(el('div', 'when', when));
      item.appendChild(el('div', 'what', h.type || 'event'));
      (h.changes || []).forEach(function (c) { item.appendChild(el('div', 'chg', c)); });
      if (h.reason) item.appendChild(el('div', 'why', 'Reason: ' + h.reason));
      if (h.text) item.appendChild(el('div', 'txt', h.text));
      if (h.decision) item.appendChild(el('div', 'why', 'Decision: ' + h.decision));
      if (h.corrects) item.appendChild(el('div', 'why', 'Corrects #' + h.corrects));
      if (h.corrected_by && h.corrected_by.length) {
        item.appendChild(el('div', 'why', 'Corrected by #' + h.corrected_by.join(', #')));
      }
      if (h.redacted) item.appendChild(el('div', 'why', h.redacted));
      list.appendChild(item);
    });
    panelBody.appendChild(list);
  }

  function openPanel(row) {
    var a = areas[Number(row.dataset.index)];
    if (!a) return;
    if (openRow) { openRow.classList.remove('selected'); openRow.setAttribute('aria-expanded', 'false'); }
    openRow = row;
    row.classList.add('selected');
    row.setAttribute('aria-expanded', 'true');
    fillPanel(a);
    panel.hidden = false;
    panelBody.scrollTop = 0;
    panel.focus();
  }
  function closePanel() {
    panel.hidden = true;
    if (openRow) {
      openRow.classList.remove('selected');
      openRow.setAttribute('aria-expanded', 'false');
      openRow.focus();
    }
    openRow = null;
  }
  function visibleRows() { return rows.filter(function (r) { return !r.hidden; }); }

  rows.forEach(function (row) {
    row.setAttribute('aria-expanded', 'false');
    row.addEventListener('click', function () { openPanel(row); });
    row.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        openPanel(row);
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        var list = visibleRows();
        var next = list[list.indexOf(row) + (e.key === 'ArrowDown' ? 1 : -1)];
        if (next) { e.preventDefault(); next.focus(); }
      }
    });
  });
  document.getElementById('panel-close').addEventListener('click', closePanel);
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && !panel.hidden) closePanel();
  });

  var tip = document.getElementById('tip');
  function placeTip(x, y) {
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var left = Math.min(x + 14, window.innerWidth - w - 8);
    var top = y + 16 + h > window.innerHeight ? y - h - 10 : y + 16;
    tip.style.left = Math.max(8, left) + 'px';
    tip.style.top = Math.max(8, top) + 'px';
  }
  document.addEventListener('mouseover', function (e) {
    var target = e.target && e.target.closest ? e.target.closest('[data-tip]') : null;
    if (!target) { tip.hidden = true; return; }
    tip.textContent = target.getAttribute('data-tip');
    tip.hidden = false;
    placeTip(e.clientX, e.clientY);
  });
  document.addEventListener('mousemove', function (e) {
    if (!tip.hidden) placeTip(e.clientX, e.clientY);
  });

  var filter = document.getElementById('filter');
  var shown = document.getElementById('shown');
  var searchText = areas.map(function (a) {
    return [a.id, a.title, a.support_area, a.group, a.phase, a.health, a.planned]
        .join(' ').toLowerCase();
  });
  function applyFilter() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var count = 0;
    var group = null, groupVisible = false;
    var children = document.querySelectorAll('.group-row, .area-row');
    function closeGroup() { if (group) group.hidden = !groupVisible; }
    Array.prototype.forEach.call(children, function (node) {
      if (node.classList.contains('group-row')) {
        closeGroup();
        group = node;
        groupVisible = false;
        return;
      }
      var text = searchText[Number(node.dataset.index)] || '';
      var match = words.every(function (w) { return text.indexOf(w) >= 0; });
      node.hidden = !match;
      if (match) { count++; groupVisible = true; }
    });
    closeGroup();
    shown.textContent = words.length ? count + ' of ' + areas.length + ' areas shown' : '';
  }
  filter.addEventListener('input', applyFilter);
  document.getElementById('print').addEventListener('click', function () { window.print(); });

  // "page.html#area=3.1.2" opens that area, so a mail can point at one.
  var wanted = /^#area=(.+)$/.exec(window.location.hash || '');
  if (wanted) {
    var id = decodeURIComponent(wanted[1]);
    var target = rows.filter(function (r) { return r.dataset.areaId === id; })[0];
    if (target) openPanel(target);
  }

  var scroller = document.getElementById('scroller');
  body.dataset.naturalHeight = String(Math.ceil(document.documentElement.scrollHeight -
      scroller.clientHeight + scroller.scrollHeight));
  body.dataset.rendered = 'true';
})();
