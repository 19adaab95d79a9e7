// The qlaunch page: the instance list pushed by the server, actions as API calls, a console over a websocket.

const $ = (selector) => document.querySelector(selector);
const tbody = $('#instances tbody');
const errorBox = $('#error');
let instances = [];

// Errors look as they do in the CLI: what went wrong, then how to fix it.
function showError(error) {
  errorBox.querySelector('.error-message').textContent = error.message ?? String(error);
  errorBox.querySelector('.error-hint').textContent = error.hint ? `fix: ${error.hint}` : '';
  errorBox.dataset.code = error.code ?? '';
  errorBox.hidden = false;
}
errorBox.querySelector('.error-dismiss').addEventListener('click', () => {
  errorBox.hidden = true;
});

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const reply = await response.json().catch(() => ({ message: `${response.status} ${response.statusText}` }));
  if (!response.ok) throw reply;
  return reply;
}

const ACTIONS_BY_STATE = {
  running: ['console', 'screen', 'stop', 'force-stop', 'restart', 'pause', 'add-port', 'snapshots', 'logs'],
  paused: ['console', 'screen', 'resume', 'force-stop', 'add-port', 'snapshots', 'logs'],
  stopped: ['start', 'snapshots', 'logs'],
  crashed: ['start', 'stop', 'logs'],
  damaged: [],
};
const LABELS = { 'force-stop': 'force stop', 'add-port': 'add port' };

function uptime(startedAt) {
  if (!startedAt) return '-';
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(startedAt)) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${seconds % 60}s` : `${seconds}s`;
}

function size(bytes) {
  if (bytes < 2 ** 20) return `${Math.ceil(bytes / 2 ** 10)} KiB`;
  if (bytes < 2 ** 30) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function render() {
  $('#empty').hidden = instances.length > 0;
  tbody.replaceChildren();
  for (const item of instances) {
    const row = tbody.insertRow();
    row.dataset.name = item.name;
    const state = item.error ? 'damaged' : item.state;
    row.dataset.state = state;
    cell(row, item.name, 'name');
    const stateCell = cell(row, state, 'state');
    stateCell.dataset.state = state;
    const detail = item.error ?? (state === 'crashed' || state === 'paused' ? item.detail : undefined);
    if (detail) {
      const span = document.createElement('span');
      span.className = 'detail';
      span.textContent = detail;
      stateCell.append(span);
    }
    if (item.error) {
      for (let i = 0; i < 7; i++) cell(row, '-');
    } else {
      cell(row, item.arch);
      cell(row, String(item.cpus));
      cell(row, `${item.memoryMiB} MiB`);
      cell(row, item.diskBytes === undefined ? '-' : size(item.diskBytes), 'disk');
      const ports = cell(row, item.ports.length === 0 ? '-' : '', 'ports');
      const live = state === 'running' || state === 'paused';
      for (const p of item.ports) {
        const forward = document.createElement('span');
        forward.className = 'forward';
        forward.dataset.hostPort = String(p.hostPort);
        forward.dataset.guestPort = String(p.guestPort);
        forward.textContent = `${p.hostAddress}:${p.hostPort}→${p.guestPort}${p.protocol === 'udp' ? '/udp' : ''}`;
        // Removing a forward is a change to the running QEMU; a stopped instance's are its config's.
        if (live) {
          const remove = document.createElement('button');
          remove.type = 'button';
          remove.className = 'forward-remove';
          remove.dataset.action = 'port-remove';
          remove.dataset.port = `${p.protocol}/${p.hostPort}`;
          remove.title = `remove the forward of host port ${p.hostPort}`;
          remove.textContent = '×';
          forward.append(remove);
        }
        ports.append(forward);
      }
      const ssh = cell(row, '');
      if (item.ssh && state === 'running') {
        const code = document.createElement('code');
        code.textContent = `ssh -p ${item.ssh.port} -i ${item.ssh.key} ${item.ssh.user}@${item.ssh.host}`;
        ssh.append(code);
      } else ssh.textContent = '-';
      // Its addresses on private networks, for the other guests there (and to copy).
      for (const { network, address } of item.addresses ?? []) {
        const line = document.createElement('span');
        line.className = 'address';
        line.textContent = `${network}: ${address.split('/')[0]}`;
        ssh.append(line);
      }
      cell(row, uptime(item.startedAt), 'uptime').dataset.startedAt = item.startedAt ?? '';
    }
    const actions = cell(row, '', 'actions');
    for (const action of [...ACTIONS_BY_STATE[state], 'remove']) {
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.action = action;
      button.textContent = LABELS[action] ?? action;
      actions.append(button);
    }
  }
}

// Uptime moves on between pushes: counted here, not asked of the server.
setInterval(() => {
  for (const td of tbody.querySelectorAll('td.uptime')) td.textContent = uptime(td.dataset.startedAt);
}, 1000);

async function act(name, action, button) {
  const path = `/api/instances/${encodeURIComponent(name)}`;
  const row = button.closest('tr');
  for (const b of row.querySelectorAll('button')) b.disabled = true;
  button.textContent = `${LABELS[action] ?? action}…`;
  try {
    if (action === 'console') return await openConsole(name);
    if (action === 'logs') {
      await openLogs(name, 'console');
      return render();
    }
    if (action === 'screen') {
      openScreen(name);
      return render();
    }
    if (action === 'snapshots') {
      await openSnapshots(name);
      return render();
    }
    if (action === 'add-port') {
      const spec = prompt(
        `Forward a host port to ${name}: HOST:GUEST (e.g. 8080:80), or a guest port for a free host port`,
      );
      if (spec === null || spec.trim() === '') return render();
      const value = spec.trim();
      await call('POST', `${path}/ports`, { spec: /^\d+$/.test(value) ? Number(value) : value });
    } else if (action === 'port-remove') {
      await call('DELETE', `${path}/ports/${button.dataset.port}`);
    } else if (action === 'remove') {
      const answer = prompt(`Remove ${name} and its disk? Type its name to confirm.`);
      if (answer === null) return render();
      const running = row.dataset.state === 'running' || row.dataset.state === 'paused';
      await call('DELETE', path, { confirm: answer, force: running });
    } else {
      await call('POST', `${path}/${action}`);
    }
  } catch (error) {
    showError(error);
    render();
  }
}

tbody.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  void act(button.closest('tr').dataset.name, button.dataset.action, button);
});

$('#create').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  const body = { name: data.get('name').trim() };
  for (const key of ['image', 'machine', 'arch', 'memory', 'diskSize']) {
    const value = data.get(key).trim();
    if (value) body[key] = value;
  }
  if (data.get('cpus')) body.cpus = Number(data.get('cpus'));
  const ports = data
    .get('ports')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (ports.length > 0) body.ports = ports;
  const submit = form.querySelector('button[type=submit]');
  submit.disabled = true;
  try {
    await call('POST', '/api/instances', body);
    form.reset();
    errorBox.hidden = true;
  } catch (error) {
    showError(error);
  } finally {
    submit.disabled = false;
  }
});

// The list, pushed whenever it changes.
const live = $('#live');
const events = new EventSource('/api/events');
events.addEventListener('instances', (event) => {
  instances = JSON.parse(event.data);
  render();
});
events.addEventListener('open', () => {
  live.dataset.live = 'live';
  live.textContent = 'live';
});
events.addEventListener('error', () => {
  live.dataset.live = 'lost';
  live.textContent = 'connection lost: is `qlaunch ui` still running?';
});

// The console: one terminal, attached to one instance at a time.
let terminal;
let fit;
let socket;
// Only once the log's tail is drawn: a terminal query replayed from the log must not be answered into the guest.
let attached = false;

async function openConsole(name) {
  socket?.close();
  $('#console').hidden = false;
  // xterm.js draws nothing while out of view: bring it into view.
  $('#console').scrollIntoView({ block: 'nearest' });
  $('#console-title').textContent = `Console: ${name}`;
  if (!terminal) {
    // Loaded when first needed: the list should not wait for the terminal's code.
    const [{ Terminal }, { FitAddon }] = await Promise.all([
      import('/vendor/xterm.mjs'),
      import('/vendor/addon-fit.mjs'),
    ]);
    terminal = new Terminal({ convertEol: true, scrollback: 5000, fontSize: 14 });
    fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.open($('#terminal'));
    terminal.onData((data) => attached && socket?.readyState === WebSocket.OPEN && socket.send(data));
    addEventListener('resize', () => fit.fit());
  }
  attached = false;
  terminal.reset();
  fit.fit();
  const ws = new WebSocket(`ws://${location.host}/api/instances/${encodeURIComponent(name)}/console`);
  ws.binaryType = 'arraybuffer';
  ws.addEventListener('message', (event) => {
    if (typeof event.data === 'string') {
      const notice = JSON.parse(event.data);
      if (notice.type === 'attached') {
        terminal.write('', () => {
          attached = socket === ws;
        });
      } else if (notice.type === 'error') showError(notice);
      else terminal.write(`\r\n[${notice.message}]\r\n`);
    } else terminal.write(new Uint8Array(event.data));
  });
  ws.addEventListener('open', () => terminal.focus());
  ws.addEventListener('close', () => {
    if (socket === ws) attached = false;
  });
  socket = ws;
  render();
}

$('#console-close').addEventListener('click', () => {
  socket?.close();
  socket = undefined;
  $('#console').hidden = true;
});

// Snapshots of one instance: listed when the pane opens and after each change made from it.
let snapshotsOf;
const snapshotPath = (name, tag) =>
  `/api/instances/${encodeURIComponent(name)}/snapshots${tag === undefined ? '' : `/${encodeURIComponent(tag)}`}`;

async function openSnapshots(name) {
  snapshotsOf = name;
  $('#snapshots').hidden = false;
  $('#snapshots-title').textContent = `Snapshots: ${name}`;
  const list = await call('GET', snapshotPath(name));
  const body = $('#snapshot-list tbody');
  body.replaceChildren();
  $('#snapshots-empty').hidden = list.length > 0;
  for (const snapshot of list) {
    const row = body.insertRow();
    row.dataset.tag = snapshot.tag;
    cell(row, snapshot.tag, 'tag');
    cell(row, new Date(snapshot.date).toLocaleString());
    cell(row, snapshot.vmStateSize > 0 ? `${(snapshot.vmStateSize / 2 ** 20).toFixed(1)} MiB` : 'disk only');
    const actions = cell(row, '', 'actions');
    for (const action of ['load', 'delete']) {
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.snapshotAction = action;
      button.textContent = action;
      actions.append(button);
    }
  }
}

async function snapshotAction(work) {
  const name = snapshotsOf;
  try {
    await work(name);
  } catch (error) {
    showError(error);
  }
  if (name === snapshotsOf) await openSnapshots(name).catch(showError);
}

$('#snapshot-list tbody').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-snapshot-action]');
  if (!button) return;
  const tag = button.closest('tr').dataset.tag;
  button.disabled = true;
  void snapshotAction((name) =>
    button.dataset.snapshotAction === 'load'
      ? call('POST', `${snapshotPath(name, tag)}/load`)
      : call('DELETE', snapshotPath(name, tag)),
  );
});

$('#snapshot-save').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.target;
  const tag = new FormData(form).get('tag').trim();
  void snapshotAction(async (name) => {
    await call('POST', snapshotPath(name), { tag });
    form.reset();
  });
});

$('#snapshots-close').addEventListener('click', () => {
  snapshotsOf = undefined;
  $('#snapshots').hidden = true;
});

// Logs: the last lines of the console log, QEMU's output or qlaunch's journal, read when asked.
let logsOf;

async function openLogs(name, source) {
  logsOf = name;
  $('#logs').hidden = false;
  $('#logs-title').textContent = `Logs: ${name} (${source})`;
  const response = await fetch(`/api/instances/${encodeURIComponent(name)}/logs/${source}`);
  if (!response.ok) throw await response.json();
  const pre = $('#log-text');
  pre.dataset.source = source;
  pre.textContent = await response.text();
  pre.scrollTop = pre.scrollHeight;
}

for (const button of document.querySelectorAll('#logs button[data-source]')) {
  button.addEventListener('click', () => openLogs(logsOf, button.dataset.source).catch(showError));
}
$('#logs-close').addEventListener('click', () => {
  logsOf = undefined;
  $('#logs').hidden = true;
});

// Screen: a still picture from QMP screendump, taken again on refresh. The image loads as an <img> (the page's CSP
// allows no blob: or data: images); when it fails, the same URL fetched says why (e.g. no --display vnc).
let screenOf;

let liveScreen;

function endLive() {
  liveScreen?.disconnect();
  liveScreen = undefined;
  $('#screen-live').replaceChildren();
  $('#screen-live').hidden = true;
  $('#screen-image').hidden = false;
}

function openScreen(name) {
  endLive();
  screenOf = name;
  $('#screen').hidden = false;
  $('#screen-title').textContent = `Screen: ${name}`;
  $('#screen-image').src = `/api/instances/${encodeURIComponent(name)}/screen?at=${Date.now()}`;
}

// Live: noVNC over the server's websocket, which bridges to the instance's VNC socket; loaded only when asked.
async function openLive(name) {
  endLive();
  const { default: RFB } = await import('/vendor/novnc/core/rfb.js');
  const target = $('#screen-live');
  target.hidden = false;
  $('#screen-image').hidden = true;
  const rfb = new RFB(target, `ws://${location.host}/api/instances/${encodeURIComponent(name)}/vnc`);
  rfb.scaleViewport = true;
  rfb.addEventListener('connect', () => {
    target.dataset.state = 'connected';
  });
  rfb.addEventListener('disconnect', (event) => {
    target.dataset.state = 'disconnected';
    if (!event.detail.clean)
      showError({ message: `the screen of ${name} closed`, hint: 'is it running with --display vnc?' });
  });
  liveScreen = rfb;
}

$('#screen-image').addEventListener('error', () => {
  if (screenOf === undefined) return;
  fetch(`/api/instances/${encodeURIComponent(screenOf)}/screen`)
    .then((response) => response.json())
    .then(showError, showError);
});
$('#screen-refresh').addEventListener('click', () => screenOf !== undefined && openScreen(screenOf));
$('#screen-live-button').addEventListener('click', () => {
  if (screenOf !== undefined) openLive(screenOf).catch(showError);
});
$('#screen-close').addEventListener('click', () => {
  endLive();
  screenOf = undefined;
  $('#screen').hidden = true;
  $('#screen-image').removeAttribute('src');
});
