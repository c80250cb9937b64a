// The demo's Discord client: a command box with suggestions and
// autocomplete, the bot's answers put where Discord would put them, each
// user's direct messages with the bot, and the first hour's checklist. The
// server builds each interaction, sends it to the bot and renders the reply.
'use strict';

const $ = (id) => document.getElementById(id);
const messages = $('messages'), composer = $('composer'), input = $('command'), place = $('place');
const suggestions = $('suggestions'), optionsBox = $('options'), modal = $('modal'), user = $('user');
let selected = null; // the command whose options are shown
let pane = messages; // the channel shown: #general or a user's DMs

function fragment(html) {
  const t = document.createElement('template');
  t.innerHTML = html.trim();
  return t.content.firstElementChild;
}

function add(el, into = messages) {
  into.append(el);
  into.scrollTop = into.scrollHeight;
  return el;
}

function error(text, into) {
  const el = document.createElement('div');
  el.className = 'error';
  el.textContent = text;
  add(el, into);
}

async function call(url, body) {
  const res = await fetch(url, body === undefined ? {} : {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const data = await res.json();
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

// interact sends one interaction as the chosen user, in the channel into
// (#general or a DM pane); target is the message a button was clicked on.
async function interact(action, target, into = messages) {
  action.user = user.value;
  action.dm = into.classList.contains('dm');
  try {
    show(await call('/demo/interactions', action), target, into);
  } catch (e) {
    error(e.message, into);
  }
}

// show puts the bot's answer where Discord would: target is the message
// clicked, or the one deferred.
function show(r, target, into) {
  switch (r.kind) {
    case 'message':
      if (r.deleted && target) target.remove();
      add(fragment(r.html), into);
      break;
    case 'update':
      replace(target, fragment(r.html), into);
      break;
    case 'modal':
      openModal(fragment(r.html), into);
      break;
    case 'deferred':
      waitDelivery(r.token, r.html ? add(fragment(r.html), into) : target, into);
      break;
  }
}

// replace swaps a message for its edit, which keeps its visibility and
// whom it answered.
function replace(old, el, into) {
  if (!old) return add(el, into);
  if (old.classList.contains('private')) el.classList.add('private');
  if (old.dataset.posted) el.dataset.posted = old.dataset.posted;
  const invoker = old.querySelector('.invoker');
  if (invoker && !el.querySelector('.invoker')) el.prepend(invoker);
  old.replaceWith(el);
}

async function waitDelivery(token, target, into) {
  try {
    for (;;) {
      const r = await call('/demo/deliveries/' + encodeURIComponent(token));
      if (r) return show(r, target, into);
    }
  } catch (e) {
    error(e.message, into);
  }
}

// openModal shows a form; it is submitted in the channel it came from.
function openModal(form, into) {
  modal.replaceChildren(form);
  form.querySelector('[data-cancel]').addEventListener('click', () => modal.close());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const values = {};
    for (const f of form.querySelectorAll('input, textarea')) values[f.name] = f.value;
    modal.close();
    interact({type: 'modal', custom_id: form.dataset.customId, values}, null, into);
  });
  modal.showModal();
  form.querySelector('input, textarea')?.focus();
}

function suggest(items) {
  suggestions.replaceChildren(...items.map(([text, note, pick]) => {
    const el = document.createElement('div');
    el.textContent = text;
    if (note) {
      const small = document.createElement('small');
      small.textContent = note;
      el.append(small);
    }
    el.addEventListener('click', pick);
    return el;
  }));
}

function suggestCommands() {
  const typed = input.value.trim();
  if (selected || !typed.startsWith('/')) return suggest([]);
  const q = typed.slice(1).toLowerCase();
  const found = COMMANDS.filter((c) => c.path.startsWith(q));
  found.sort((a, b) => (b.path === q) - (a.path === q)); // what is typed in full first: Enter picks it
  suggest(found.map((c) => ['/' + c.path, c.description, () => select(c)]));
}

function select(c) {
  selected = c;
  input.value = '/' + c.path;
  suggest([]);
  optionsBox.replaceChildren(...(c.options || []).map(optionField));
  (optionsBox.querySelector('input, select') || input).focus();
}

// Option types: 5 boolean, 6 user, 7 channel, 8 role; choices, users,
// channels and roles are picked from a list.
function optionField(o) {
  const label = document.createElement('label');
  label.textContent = o.name + (o.required ? ' *' : '');
  label.title = o.description;
  let field;
  if (o.type === 5 || o.type === 6 || o.type === 7 || o.type === 8 || o.choices) {
    field = document.createElement('select');
    const items = o.type === 6 ? [...user.options].map((u) => [u.textContent, u.value])
      : o.type === 7 ? CHANNELS.map((c) => ['#' + c.Name, c.ID])
      : o.type === 8 ? ROLES.map((r) => ['@' + r.Name, r.ID])
      : o.type === 5 ? [['true', 'true'], ['false', 'false']]
      : o.choices.map((c) => [c.name, String(c.value)]);
    field.append(new Option('', ''), ...items.map(([text, value]) => new Option(text, value)));
  } else {
    field = document.createElement('input');
    field.placeholder = o.description;
    field.autocomplete = 'off';
    if (o.autocomplete) autocomplete(field, o);
  }
  field.name = o.name;
  label.append(field);
  return label;
}

// autocomplete asks the bot for choices as the option is typed; a picked
// choice shows its name and sends its value, as in Discord.
function autocomplete(field, o) {
  let timer, asked = 0;
  field.addEventListener('input', () => {
    delete field.dataset.value;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const n = ++asked;
      try {
        const r = await call('/demo/interactions', {
          user: user.value, type: 'autocomplete', command: selected.path, options: values(), focused: o.name,
        });
        if (n !== asked) return; // a later keystroke asked again
        suggest((r.choices || []).map((c) => [c.name, '', () => {
          field.value = c.name;
          field.dataset.value = String(c.value);
          suggest([]);
          field.focus();
        }]));
      } catch (e) {
        error(e.message);
      }
    }, 150);
  });
}

function values() {
  const v = {};
  for (const f of optionsBox.querySelectorAll('input, select')) {
    const value = f.dataset.value ?? f.value;
    if (value !== '') v[f.name] = value;
  }
  return v;
}

function send() {
  const c = selected, options = values();
  selected = null;
  input.value = '';
  optionsBox.replaceChildren();
  suggest([]);
  interact({type: 'command', command: c.path, options});
  input.focus();
}

// Enter picks the first suggestion (a command, or a choice), else sends; a
// command without options is sent as soon as it is picked.
composer.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    suggest([]);
    return;
  }
  if (e.key !== 'Enter') return;
  e.preventDefault();
  const pick = suggestions.firstElementChild;
  if (pick) {
    const wasSelected = selected;
    pick.click();
    if (!wasSelected && selected && !(selected.options || []).length) send();
  } else if (selected) {
    send();
  }
});

input.addEventListener('input', () => {
  if (selected && input.value !== '/' + selected.path) {
    selected = null;
    optionsBox.replaceChildren();
  }
  suggestCommands();
});

document.querySelector('main').addEventListener('click', (e) => {
  const b = e.target.closest('.pane button[data-custom-id]');
  if (b) interact({type: 'component', custom_id: b.dataset.customId}, b.closest('.message'), b.closest('.pane'));
});

// Channels: #general, where commands are typed; the server's channels,
// where the bot posts unasked; and each user's DMs with the bot, which only
// that user sees: opening them acts as that user.
const channelButton = (paneID) => document.querySelector(`button[data-pane="${paneID}"]`);

function openChannel(next) {
  pane = next;
  for (const p of document.querySelectorAll('.pane')) p.hidden = p !== next;
  for (const b of document.querySelectorAll('.channels button')) b.classList.remove('active');
  const b = channelButton(next.id);
  b.classList.add('active');
  b.querySelector('.badge')?.setAttribute('hidden', '');
  place.textContent = b.dataset.title;
  composer.hidden = next !== messages;
  if (next.classList.contains('dm')) user.value = next.id.slice(3);
  else if (next === messages) input.focus();
  next.scrollTop = next.scrollHeight;
  dashboardLinks();
}

for (const b of document.querySelectorAll('button[data-pane]')) {
  b.addEventListener('click', () => openChannel($(b.dataset.pane)));
}
user.addEventListener('change', () => {
  if (pane.classList.contains('dm')) openChannel($('dm-' + user.value));
  dashboardLinks();
});

// thread adds the pane of a thread the bot started, and its entry under
// its channel in the side bar.
function thread(id, c) {
  const into = document.createElement('div');
  into.id = 'ch-' + id;
  into.className = 'pane channel';
  into.hidden = true;
  $('messages').after(into);
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.pane = into.id;
  b.dataset.title = '# ' + c.name;
  b.textContent = '↳ ' + c.name + ' ';
  const count = document.createElement('span');
  count.className = 'badge';
  count.hidden = true;
  b.append(count);
  b.addEventListener('click', () => openChannel(into));
  const li = document.createElement('li');
  li.append(b);
  channelButton('ch-' + c.parent).closest('li').after(li);
  return into;
}

// badge counts n more messages on a channel not shown.
function badge(into, n) {
  if (into === pane || n <= 0) return;
  const b = channelButton(into.id).querySelector('.badge');
  b.textContent = String((b.hidden ? 0 : Number(b.textContent)) + n);
  b.hidden = false;
}

// The world's buttons make the fake game act.
for (const b of document.querySelectorAll('button[data-event]')) {
  b.addEventListener('click', async () => {
    try {
      await call('/demo/world/' + b.dataset.event, {});
    } catch (e) {
      error(e.message, pane);
    }
  });
}

// The dashboard's links sign the chosen user in through the fake Discord.
function dashboardLinks() {
  for (const a of document.querySelectorAll('a[data-to]')) {
    a.href = '/demo/dashboard?' + new URLSearchParams({user: user.value, to: a.dataset.to});
  }
}
dashboardLinks();

// events follows what the bot does unasked: direct messages arriving,
// messages posted or edited in the server's channels (a badge on a channel
// not shown), and the checklist ticking.
async function events() {
  const seen = {};
  let done = DONE || [], version = '';
  for (;;) {
    const counts = [...user.options].map((o) => seen[o.value] || 0);
    let r;
    try {
      r = await call('/demo/events?' + new URLSearchParams({dms: counts.join(','), channels: version, done: done.join(',')}));
    } catch (e) {
      await new Promise((ok) => setTimeout(ok, 2000)); // the demo stopped, or is restarting
      continue;
    }
    if (!r) continue;
    for (const [id, list] of Object.entries(r.dms)) {
      const into = $('dm-' + id);
      for (const html of list) add(fragment(html), into);
      seen[id] = (seen[id] || 0) + list.length;
      badge(into, list.length);
    }
    for (const [id, c] of Object.entries(r.channels || {})) {
      const into = $('ch-' + id) || thread(id, c);
      // The bot's posts, as last edited; replies to clicks on them stay.
      let added = 0;
      (c.messages || []).forEach((html, i) => {
        const el = fragment(html), old = into.querySelector(`[data-posted="${i}"]`);
        el.dataset.posted = String(i);
        if (old) {
          old.replaceWith(el);
        } else {
          add(el, into);
          added++;
        }
      });
      badge(into, added);
    }
    version = r.version;
    done = r.done || [];
    for (const li of document.querySelectorAll('#checklist li')) li.classList.toggle('done', done.includes(li.dataset.step));
  }
}
events();
