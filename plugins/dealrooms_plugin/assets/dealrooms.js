/* Dealrooms: a deal page is true on the day it is opened.

   A deal room is built on one day and read on many. Every figure that depends
   on today (days to target, late flags and "N days late", the overdue count and
   list, the slip banner, the health and its reason, the proposal's validity) is
   recomputed here from the visitor's local date, with the same rules as the
   build (plan.py: schedule, assess_health; view.py: validity). Without
   JavaScript the page keeps the build's figures and says "as of" which day.

   Inputs, all rendered by the templates (_macros.html):
   - <script type="application/json" data-dr-live>: {deal, text} from ui.live().
     deal: built, target, lang, thresholds, expiring_soon_days, valid_until,
     signature_ids, steps [{id, title, planned, status, done_on, after}].
     ui.live(steps_only=true) (the Plan page) leaves out the titles and every word but
     status, days and late: enough for data-dr-chip, -step, -late-days, -projected and
     -if-slipped, which are all such a page may use.
     text: the words in the deal's language with %(name)s placeholders; plural
     messages are {forms, pick}: pick[n] is the form for count n (0..199), from
     the deal's own catalog (view.plural_forms says why).
   - data-dr-valid-until + data-dr-texts on a validity text (ui.validity): works
     on any page, with or without the live block.

   Conventions, for templates that want a part of the page recomputed
   (add the attribute; the script finds it on every page that has ui.live()):
     data-dr-chip="ID"                 status chip of step ID: "N days late" or its status label,
                                       class dr-chip--late while overdue
     data-dr-step="ID" data-dr-late-class="CLASS"
                                       CLASS toggled on while step ID is overdue
     data-dr-step="ID" data-dr-show-if-overdue
                                       hidden unless step ID is overdue
     data-dr-late-days="ID"            "N days": how late step ID is (done late: fixed)
     data-dr-projected="ID" [data-dr-format="medium|short_day|day_month"]
                                       step ID's projected date, as a <time>
     data-dr-if-slipped="ID"           hidden unless open step ID is projected after its planned date
     data-dr-figure="days-to-target" | "days-to-target-label" | "overdue-count" | "overdue-note"
                  | "slip-days" | "projected-date"
     data-dr-show-if-slip / data-dr-slip
                                       hidden unless the outcome moves past the target
     data-dr-overdue-list              hidden unless a step is overdue
     data-dr-overdue-card              class dr-card--alert while a step is overdue
     data-dr-health                    the health badge, rebuilt
     data-dr-slip-text                 the slip sentence, rebuilt
     data-dr-asof                      "Figures as of today, ..." once the day is not the build's
     data-dr-meetings / data-dr-meeting="YYYY-MM-DD"
                                       of the data-dr-meeting elements inside a data-dr-meetings one,
                                       only the first not before today is shown; the container is
                                       hidden when every one is past (works without the live block)

   Deal text (titles) is untrusted: it only ever goes into the page as text
   nodes (textContent, createTextNode); catalog text is trusted but only its
   <strong> tags become elements. No innerHTML, no eval, no inline handlers:
   the page's Content-Security-Policy stays as it is. Runs on every page view
   of Material's instant navigation (document$). */
(function () {
  "use strict";
  var DAY = 86400000;
  var FORMATS = {
    medium: { year: "numeric", month: "short", day: "numeric" },
    short_day: { month: "short", day: "numeric" },
    day_month: { month: "long", day: "numeric" }
  };
  var ORDER = { off_track: 0, at_risk: 1, on_track: 2 };
  var REASON_ORDER = { late: 0, overdue: 0, slip: 1, proposal_expired: 2, proposal_before_signature: 2,
                       proposal_before_target: 2, on_time: 3 };

  // Days are whole numbers (days since 1970-01-01), so no time zone or DST can shift them.
  function dayOf(iso) {
    var p = iso.split("-");
    return Math.round(Date.UTC(+p[0], +p[1] - 1, +p[2]) / DAY);
  }
  function isoOf(day) { return new Date(day * DAY).toISOString().slice(0, 10); }
  function localToday() {
    var now = new Date();
    return Math.round(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()) / DAY);
  }

  // --- words ------------------------------------------------------------------

  function plural(message, n) {
    if (typeof message === "string") { return message; }
    n = Math.abs(n);
    var index = n < message.pick.length ? n : 100 + (n % 100);
    return message.forms[message.pick[index]];
  }

  // Fills a catalog text into `parent`: %(name)s become the values (strings as text,
  // nodes as they are), <strong> becomes an element, everything else is text.
  function fill(parent, template, values) {
    while (parent.firstChild) { parent.removeChild(parent.firstChild); }
    var stack = [parent];
    var token = /%\((\w+)\)s|<strong>|<\/strong>|%%/g;
    var last = 0, match;
    function text(s) { if (s) { stack[stack.length - 1].appendChild(document.createTextNode(s)); } }
    while ((match = token.exec(template)) !== null) {
      text(template.slice(last, match.index));
      last = token.lastIndex;
      var top = stack[stack.length - 1];
      if (match[0] === "<strong>") {
        stack.push(top.appendChild(document.createElement("strong")));
      } else if (match[0] === "</strong>") {
        if (stack.length > 1) { stack.pop(); }
      } else if (match[0] === "%%") {
        text("%");
      } else {
        var value = values[match[1]];
        if (value && value.nodeType) { top.appendChild(value); } else { text(value == null ? "" : String(value)); }
      }
    }
    text(template.slice(last));
    return parent;
  }
  function say(template, values) { return fill(document.createElement("span"), template, values); }

  function dateFormatter(lang) {
    var cache = {};
    return function (day, fmt) {
      fmt = FORMATS[fmt] ? fmt : "medium";
      if (!cache[fmt]) {
        var options = { timeZone: "UTC" };
        for (var k in FORMATS[fmt]) { options[k] = FORMATS[fmt][k]; }
        try { cache[fmt] = new Intl.DateTimeFormat(lang, options); }
        catch (e) { cache[fmt] = new Intl.DateTimeFormat(undefined, options); }
      }
      var time = document.createElement("time");
      time.setAttribute("datetime", isoOf(day));
      time.textContent = cache[fmt].format(new Date(day * DAY));
      return time;
    };
  }

  // --- the plan on a day (plan.schedule) -----------------------------------------

  function schedule(deal, today) {
    var steps = deal.steps, byId = {}, position = {}, planned = {}, projected = {};
    steps.forEach(function (s, i) { byId[s.id] = s; position[s.id] = i; planned[s.id] = dayOf(s.planned); });
    function deps(s) { return s.after.filter(function (d) { return byId[d] && d !== s.id; }); }
    function bound(dep, id) { return projected[dep] + Math.max(planned[id] - planned[dep], 0); }
    function isDone(id) { return byId[id].status === "done"; }

    // Predecessors first (the loader refuses cycles).
    var order = [], state = {};
    function visit(id) {
      if (state[id]) { return; }
      state[id] = 1;
      deps(byId[id]).forEach(visit);
      order.push(id);
    }
    steps.forEach(function (s) { visit(s.id); });
    order.forEach(function (id) {
      var s = byId[id];
      if (s.status === "done") { projected[id] = s.done_on ? dayOf(s.done_on) : planned[id]; return; }
      var date = Math.max(planned[id], today);
      deps(s).forEach(function (d) { date = Math.max(date, bound(d, id)); });
      projected[id] = date;
    });
    function slip(id) { return projected[id] - planned[id]; }

    var latest = Math.max.apply(null, steps.map(function (s) { return planned[s.id]; }));
    var lasts = steps.filter(function (s) { return planned[s.id] === latest; }).map(function (s) { return s.id; });
    var chain = [], stack = lasts.slice();
    while (stack.length) {
      var id = stack.pop();
      if (chain.indexOf(id) >= 0) { continue; }
      chain.push(id);
      if (!isDone(id)) { stack = stack.concat(deps(byId[id])); }
    }
    var dealSlip = 0;
    chain.forEach(function (id) { if (!isDone(id) || lasts.indexOf(id) >= 0) { dealSlip = Math.max(dealSlip, slip(id)); } });

    function best(ids, key) {  // Python's max(): the first of the largest keys
      var top = null, topKey = null;
      ids.forEach(function (id) {
        var k = key(id);
        if (topKey === null || compare(k, topKey) > 0) { top = id; topKey = k; }
      });
      return top;
    }
    function compare(a, b) { for (var i = 0; i < a.length; i++) { if (a[i] !== b[i]) { return a[i] < b[i] ? -1 : 1; } } return 0; }
    var path = [];
    if (lasts.length) {
      var current = best(lasts, function (i) { return [slip(i), position[i]]; });
      path.push(current);
      var ds;
      while ((ds = deps(byId[current])).length) {
        var after = current;
        current = best(ds, function (d) { return [bound(d, after), planned[d], position[d]]; });
        path.push(current);
      }
      path.reverse();
    }

    var plans = {};
    steps.forEach(function (s) {
      var open = s.status !== "done";
      var late = open ? Math.max(today - planned[s.id], 0) : (s.done_on ? Math.max(dayOf(s.done_on) - planned[s.id], 0) : 0);
      plans[s.id] = { id: s.id, title: s.title, status: s.status, open: open, planned: planned[s.id],
                      projected: projected[s.id], overdue: open && planned[s.id] < today, lateDays: late };
    });

    var cause = null;
    if (dealSlip > 0) {
      var run = [], cur = [];
      path.forEach(function (id) {
        if (slip(id) >= dealSlip) { cur.push(id); run = cur; } else { cur = []; }
      });
      if (run.length) {
        var overdueInRun = run.filter(function (id) { return plans[id].overdue; });
        cause = plans[overdueInRun.length ? overdueInRun[0] : run[0]];
      } else {
        path.forEach(function (id) { if (slip(id) > 0 && (!cause || slip(id) > slip(cause.id))) { cause = plans[id]; } });
      }
    }
    var overdue = steps.map(function (s) { return plans[s.id]; }).filter(function (p) { return p.overdue; });
    return { today: today, target: dayOf(deal.target), slip: dealSlip, projected: dayOf(deal.target) + dealSlip,
             plans: plans, overdue: overdue, cause: cause };
  }

  // --- health and why (plan.assess_health, plan.shown_reasons) --------------------------

  function level(t, slipDays, overdue) {
    if (slipDays >= t.off_track_slip_days || overdue >= t.off_track_overdue) { return "off_track"; }
    if (slipDays >= t.at_risk_slip_days || overdue >= t.at_risk_overdue) { return "at_risk"; }
    return "on_track";
  }

  function assess(deal, plan) {
    var t = deal.thresholds, found = [];
    if (plan.overdue.length === 1) {
      found.push({ kind: "late", health: level(t, 0, 1), days: plan.overdue[0].lateDays, step: plan.overdue[0] });
    } else if (plan.overdue.length) {
      found.push({ kind: "overdue", health: level(t, 0, plan.overdue.length), count: plan.overdue.length });
    }
    if (plan.slip > 0) { found.push({ kind: "slip", health: level(t, plan.slip, 0), days: plan.slip }); }
    var signature = null;
    deal.signature_ids.some(function (id) { signature = plan.plans[id] || null; return signature; });
    if (deal.valid_until && (!signature || signature.open)) {
      var until = dayOf(deal.valid_until);
      if (until < plan.today) {
        found.push({ kind: "proposal_expired", health: "at_risk", date: until });
      } else if (signature && until < signature.projected) {
        found.push({ kind: "proposal_before_signature", health: "at_risk", date: until, deadline: signature.projected });
      } else if (!signature && until < plan.target) {
        found.push({ kind: "proposal_before_target", health: "at_risk", date: until, deadline: plan.target });
      }
    }
    found.sort(function (a, b) { return (ORDER[a.health] - ORDER[b.health]) || (REASON_ORDER[a.kind] - REASON_ORDER[b.kind]); });
    var health = found.length ? found[0].health : "on_track";
    var first = null;
    found.some(function (r) { first = r.health === health ? r : null; return first; });
    first = first || { kind: "on_time", health: "on_track" };
    var shown = [first];
    var proposal = found.filter(function (r) { return r.kind.indexOf("proposal") === 0 && r !== first; });
    if (proposal.length) { shown.push(proposal[0]); }
    return { health: health, shown: shown };
  }

  // --- the page -------------------------------------------------------------------

  function each(root, selector, fn) { Array.prototype.forEach.call(root.querySelectorAll(selector), fn); }
  function show(el, visible) { if (visible) { el.removeAttribute("hidden"); } else { el.setAttribute("hidden", ""); } }

  function updateDeal(root, data, today) {
    var deal = data.deal, text = data.text;
    var day = dateFormatter(deal.lang);
    var plan = schedule(deal, today);
    function days(n) { return say(plural(text.days, n), { num: Math.abs(n) }).textContent; }

    each(root, "[data-dr-chip]", function (el) {
      var p = plan.plans[el.getAttribute("data-dr-chip")];
      if (!p) { return; }
      el.classList.toggle("dr-chip--late", p.overdue);
      el.textContent = p.overdue ? say(text.late, { days: days(p.lateDays) }).textContent : text.status[p.status];
    });
    each(root, "[data-dr-step]", function (el) {
      var p = plan.plans[el.getAttribute("data-dr-step")];
      if (!p) { return; }
      var cls = el.getAttribute("data-dr-late-class");
      if (cls) { el.classList.toggle(cls, p.overdue); }
      if (el.hasAttribute("data-dr-show-if-overdue")) { show(el, p.overdue); }
    });
    each(root, "[data-dr-late-days]", function (el) {
      var p = plan.plans[el.getAttribute("data-dr-late-days")];
      if (p) { el.textContent = days(p.lateDays); }
    });
    each(root, "[data-dr-projected]", function (el) {
      var p = plan.plans[el.getAttribute("data-dr-projected")];
      if (p) { fill(el, "%(date)s", { date: day(p.projected, el.getAttribute("data-dr-format")) }); }
    });
    each(root, "[data-dr-if-slipped]", function (el) {
      var p = plan.plans[el.getAttribute("data-dr-if-slipped")];
      if (p) { show(el, p.open && p.projected > p.planned); }
    });

    var toTarget = plan.target - today, count = plan.overdue.length;
    // Made when a page has the figure: a page's live block carries only the words its hooks need.
    var figures = {
      "days-to-target": function () { return String(Math.abs(toTarget)); },
      "days-to-target-label": function () { return toTarget >= 0 ? text.days_to_target : text.days_past_target; },
      "overdue-count": function () { return String(count); },
      "overdue-note": function () {
        return count ? say(plural(text.need_attention, count), { count: count }).textContent : text.nothing_overdue;
      },
      "slip-days": function () { return days(plan.slip); }
    };
    each(root, "[data-dr-figure]", function (el) {
      var name = el.getAttribute("data-dr-figure");
      if (name === "projected-date") { fill(el, "%(date)s", { date: day(plan.projected, el.getAttribute("data-dr-format")) }); }
      else if (figures.hasOwnProperty(name)) { el.textContent = figures[name](); }
    });
    each(root, "[data-dr-overdue-list]", function (el) { show(el, count > 0); });
    each(root, "[data-dr-overdue-card]", function (el) { el.classList.toggle("dr-card--alert", count > 0); });
    each(root, "[data-dr-slip], [data-dr-show-if-slip]", function (el) { show(el, plan.slip > 0); });
    each(root, "[data-dr-slip-text]", function (el) {
      if (plan.slip <= 0) { fill(el, "", {}); return; }
      var values = { target: day(plan.target, "day_month"), projected: day(plan.projected, "day_month"), slip: days(plan.slip) };
      if (plan.cause) {
        values.step = plan.cause.title;
        values.late = days(plan.cause.lateDays);
        fill(el, text.slip_cause, values);
      } else {
        fill(el, text.slip_plain, values);
      }
    });

    var health = assess(deal, plan);
    function reason(r) {
      var words = text.reasons[r.kind];
      return say(plural(words, r.count || 0), {
        num: r.count, step: r.step ? r.step.title : "", days: days(r.days || 0),
        date: r.date !== undefined ? day(r.date, "short_day") : "",
        deadline: r.deadline !== undefined ? day(r.deadline, "short_day") : ""
      });
    }
    each(root, "[data-dr-health]", function (el) {
      var pill = document.createElement("span");
      pill.className = "dr-health dr-health--" + health.health;
      pill.textContent = text.health[health.health];
      var why = health.shown.length > 1
        ? say(text.join, { first: reason(health.shown[0]), second: reason(health.shown[1]) })
        : reason(health.shown[0]);
      fill(el, text.badge, { health: pill, reason: why });
    });
    each(root, "[data-dr-asof]", function (el) {
      fill(el, text.as_of_today, { today: day(today, "medium"), built: day(dayOf(deal.built), "medium") });
    });
  }

  // The proposal's validity (view.validity), with the words its own element carries.
  function updateValidity(root, today) {
    each(root, "[data-dr-valid-until]", function (el) {
      var texts;
      try { texts = JSON.parse(el.getAttribute("data-dr-texts") || "null"); } catch (e) { texts = null; }
      if (!texts) { return; }
      var days = dayOf(el.getAttribute("data-dr-valid-until")) - today;
      var state = days < 0 ? "expired" : days === 0 ? "expires_today" : days <= texts.soon ? "expiring" : "valid";
      var time = el.querySelector("time");
      var count = say(plural(texts.days, days), { num: Math.abs(days) }).textContent;
      fill(el, texts[state], { date: time ? time.cloneNode(true) : "", days: count });
      el.className = "dr-validity dr-validity--" + state;
      var box = el.closest("[data-dr-validity]");
      if (box) {
        box.classList.remove("success", "warning", "danger");
        box.classList.add(state === "expired" ? "danger" : state === "valid" ? "success" : "warning");
        var note = box.querySelector("[data-dr-validity-note]");
        if (note) { note.textContent = state === "expired" ? texts.expired_note : texts.valid_note; }
      }
      var card = el.closest(".dr-card");
      if (card) { card.className = card.className.replace(/dr-card--(expired|expiring|expires_today|valid)/, "dr-card--" + state); }
    });
  }

  // The next meeting: the first one (in page order, which is date order) not before today.
  function updateMeetings(root, today) {
    each(root, "[data-dr-meetings]", function (box) {
      var found = false;
      each(box, "[data-dr-meeting]", function (el) {
        var next = !found && dayOf(el.getAttribute("data-dr-meeting")) >= today;
        show(el, next);
        found = found || next;
      });
      show(box, found);
    });
  }

  function run() {
    var today = localToday();
    var block = document.querySelector("script[type='application/json'][data-dr-live]");
    var data = null;
    if (block) { try { data = JSON.parse(block.textContent); } catch (e) { data = null; } }
    // On the build's own day the page already says it all (in the server's date formats).
    if (data && dayOf(data.deal.built) === today) { return; }
    updateValidity(document, today);
    updateMeetings(document, today);
    if (data) { updateDeal(document, data, today); }
  }
  if (window.document$ && window.document$.subscribe) { window.document$.subscribe(run); }
  else if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", run); }
  else { run(); }
})();
