// The demo's Discord client: a command box with suggestions and
// autocomplete, and the bot's answers put where Discord would put them. The
// server builds each interaction, sends it to the bot and renders the reply.
'use strict';

const $ = (id) => document.getElementById(id);
const messages = $('messages'), composer = $('composer'), input = $('command');
const suggestions = $('suggestions'), optionsBox = $('options'), modal = $('modal'), user = $('user');
let selected = null; // the command whose options are shown

function fragment(html) {
  const t = document.createElement('template');
  t.innerHTML = html.trim();
  return t.content.firstElementChild;
}

function add(el) {
  messages.append(el);
  messages.scrollTop = messages.scrollHeight;
  return el;
}

function error(text) {
  const el = document.createElement('div');
  el.className = 'error';
  el.textContent = text;
  add(el);
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

// interact sends one interaction as the chosen user; target is the message
// a button was clicked on.
async function interact(action, target) {
  action.user = user.value;
  try {
    show(await call('/demo/interactions', action), target);
  } catch (e) {
    error(e.message);
  }
}

// show puts the bot's answer where Discord would: target is the message
// clicked, or the one deferred.
function show(r, target) {
  switch (r.kind) {
    case 'message':
      if (r.deleted && target) target.remove();
      add(fragment(r.html));
      break;
    case 'update':
      replace(target, fragment(r.html));
      break;
    case 'modal':
      openModal(fragment(r.html));
      break;
    case 'deferred':
      waitDelivery(r.token, r.html ? add(fragment(r.html)) : target);
      break;
  }
}

// replace swaps a message for its edit, which keeps its visibility and
// whom it answered.
function replace(old, el) {
  if (!old) return add(el);
  if (old.classList.contains('private')) el.classList.add('private');
  const invoker = old.querySelector('.invoker');
  if (invoker && !el.querySelector('.invoker')) el.prepend(invoker);
  old.replaceWith(el);
}

async function waitDelivery(token, target) {
  try {
    for (;;) {
      const r = await call('/demo/deliveries/' + encodeURIComponent(token));
      if (r) return show(r, target);
    }
  } catch (e) {
    error(e.message);
  }
}

function openModal(form) {
  modal.replaceChildren(form);
  form.querySelector('[data-cancel]').addEventListener('click', () => modal.close());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const values = {};
    for (const f of form.querySelectorAll('input, textarea')) values[f.name] = f.value;
    modal.close();
    interact({type: 'modal', custom_id: form.dataset.customId, values});
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
  suggest(COMMANDS.filter((c) => c.path.startsWith(q)).map((c) => ['/' + c.path, c.description, () => select(c)]));
}

function select(c) {
  selected = c;
  input.value = '/' + c.path;
  suggest([]);
  optionsBox.replaceChildren(...(c.options || []).map(optionField));
  (optionsBox.querySelector('input, select') || input).focus();
}

// Option types: 5 boolean, 6 user; choices and users are picked from a list.
function optionField(o) {
  const label = document.createElement('label');
  label.textContent = o.name + (o.required ? ' *' : '');
  label.title = o.description;
  let field;
  if (o.type === 5 || o.type === 6 || o.choices) {
    field = document.createElement('select');
    const items = o.type === 6 ? [...user.options].map((u) => [u.textContent, u.value])
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

messages.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-custom-id]');
  if (b) interact({type: 'component', custom_id: b.dataset.customId}, b.closest('.message'));
});

for (const k of document.querySelectorAll('code.key')) {
  k.addEventListener('click', () => navigator.clipboard?.writeText(k.textContent));
}
