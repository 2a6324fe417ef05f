/**
 * The live view (GET /inspect): a self-contained page, no external assets,
 * that draws each slot's machine from /api/v1/machines, highlights the state
 * every slot actor is in from the XState inspection stream (/api/v1/events),
 * and lists recent reload results. Open it as /inspect?token=TOKEN.
 */
export const INSPECT_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wfreload — live view</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2330; background: #f6f7f9; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
  #conn { color: #666; margin-bottom: 1rem; }
  .slot { background: #fff; border: 1px solid #d8dce3; border-radius: 8px; padding: .8rem 1rem; margin-bottom: 1rem; }
  .slot h2 { font-size: 1rem; margin: 0 0 .6rem; }
  .slot h2 small { color: #666; font-weight: normal; }
  .states { display: flex; flex-wrap: wrap; gap: .4rem; }
  .state { border: 1px solid #b9c0cc; border-radius: 14px; padding: .2rem .7rem; background: #fafbfc; }
  .state small { color: #777; }
  .state.settled { border-style: dashed; }
  .state.current { background: #1f6feb; border-color: #1f6feb; color: #fff; }
  .state.current small { color: #dbe8ff; }
  .state.current.bad { background: #cf222e; border-color: #cf222e; }
  .state.current.attempt { background: #9a6700; border-color: #9a6700; }
  /* Red only when the plugin does not serve; how its last attempt ended is the state's own colour. */
  .slot[data-health="failed"], .slot[data-health="restarting"] { border-color: #cf222e; border-width: 2px; }
  .slot .health { font-weight: normal; margin-left: .5rem; }
  .slot .usage { font-weight: normal; color: #57606a; }
  .slot[data-health="failed"] .health, .slot[data-health="restarting"] .health { color: #cf222e; font-weight: bold; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  td, th { border-bottom: 1px solid #e3e6eb; padding: .3rem .5rem; text-align: left; vertical-align: top; }
  .activated, .dryRunPassed, .unchanged { color: #1a7f37; } .rolledBack, .rejected, .failed { color: #cf222e; }
</style>
</head>
<body>
<h1>wfreload — live view</h1>
<div id="conn">connecting…</div>
<div id="slots"></div>
<h2>Recent reloads</h2>
<table><thead><tr><th>finished</th><th>target</th><th>outcome</th><th>step</th><th>reason</th></tr></thead><tbody id="reloads"></tbody></table>
<script>
const token = new URLSearchParams(location.search).get('token') || '';
const headers = { authorization: 'Bearer ' + token };
const slots = new Map();
let graphs = {};
const leaf = (value) => { while (value && typeof value === 'object') value = Object.values(value)[0]; return String(value); };
const el = (tag, attrs = {}, ...children) => { const e = document.createElement(tag); Object.assign(e, attrs); e.append(...children); return e; };

function drawSlot(actorId) {
  if (slots.has(actorId)) return slots.get(actorId);
  const graph = actorId === 'engine' ? graphs.engineConfig : graphs.pluginSlot;
  const states = el('div', { className: 'states' });
  const boxes = new Map();
  for (const state of graph.states) {
    const box = el('span', { className: 'state' + (state.final ? ' settled' : '') }, state.name);
    if (state.work) box.append(' ', el('small', {}, state.work));
    box.dataset.state = state.name;
    boxes.set(state.name, box);
    states.append(box);
  }
  const health = el('span', { className: 'health' });
  const usage = el('span', { className: 'usage' });
  const section = el('div', { className: 'slot' }, el('h2', {}, actorId, ' ', el('small', {}, graph.id), health, ' ', usage), states);
  section.dataset.actor = actorId;
  document.getElementById('slots').append(section);
  const slot = { boxes, section, health, usage };
  slots.set(actorId, slot);
  return slot;
}

function highlight(actorId, state) {
  const slot = drawSlot(actorId);
  for (const [name, box] of slot.boxes) {
    box.classList.toggle('current', name === state);
    // Red while a candidate is being rolled back; a settled failed attempt is amber: the running version still serves.
    box.classList.toggle('bad', name === state && (state === 'rollingBack' || state === 'swappingBack'));
    box.classList.toggle('attempt', name === state && (state === 'rolledBack' || state === 'rejected'));
  }
  slot.section.dataset.current = state;
}

/** The reason cell: the code and the message's first lines (a config error's first line only names the file), the whole message on hover. */
function reasonCell(error) {
  if (!error) return el('td', {});
  const lines = error.message.split('\\n').filter((line) => line.trim() !== '');
  return el('td', { title: error.message }, error.code + ': ' + lines.slice(0, lines[0] && lines[0].endsWith(':') ? 2 : 1).join(' '));
}

/** A plugin card says whether the plugin serves (from /status), apart from the state its slot is in. */
function showHealth(plugins) {
  for (const plugin of plugins) {
    const slot = drawSlot('plugin:' + plugin.name);
    slot.section.dataset.health = plugin.health;
    slot.health.textContent = plugin.health === 'serving' ? '· serving ' + plugin.version : '· ' + plugin.health.toUpperCase() + ' ' + plugin.version;
    // What the process uses, against its limit where the config sets one (as wfctl plugin list shows it).
    const memoryLimit = plugin.limits && plugin.limits.set.memoryMiB;
    slot.usage.textContent = plugin.usage
      ? '· ' + Math.round(plugin.usage.memoryBytes / 1048576) + (memoryLimit ? '/' + memoryLimit : '') + ' MiB, cpu ' + plugin.usage.cpuSeconds.toFixed(1) + ' s'
      : '';
  }
}

async function refreshHealth() {
  const status = await (await fetch('/api/v1/status', { headers })).json();
  if (status.plugins) showHealth(status.plugins);
}

function reloadRow(result, target) {
  return el('tr', {},
    el('td', {}, result.finishedAt.slice(11, 19)),
    el('td', {}, target),
    el('td', { className: result.outcome }, result.outcome + (result.dryRun ? ' (dry run)' : '')),
    el('td', {}, result.failedStep || ''),
    reasonCell(result.error));
}

/** Newest first: the history arrives newest first and is appended; each live result goes on top. */
function addReload(result, where = 'top') {
  const row = reloadRow(result, result.target);
  row.dataset.reload = result.id;
  // A config reload's plugins, each with its own outcome, under it.
  const nested = (result.plugins || []).map((plugin) => {
    const sub = reloadRow(plugin, '↳ ' + plugin.target);
    sub.dataset.plugin = plugin.name;
    return sub;
  });
  const table = document.getElementById('reloads');
  if (where === 'top') table.prepend(row, ...nested);
  else table.append(row, ...nested);
}

async function start() {
  graphs = await (await fetch('/api/v1/machines', { headers })).json();
  const status = await (await fetch('/api/v1/status', { headers })).json();
  if (status.error) { document.getElementById('conn').textContent = status.error.message; return; }
  highlight('engine', status.engine ? 'active' : 'idle');
  for (const plugin of status.plugins) highlight('plugin:' + plugin.name, plugin.state);
  showHealth(status.plugins);
  const history = await (await fetch('/api/v1/reloads?limit=20', { headers })).json();
  for (const result of history.reloads) addReload(result, 'bottom');
  const events = new EventSource('/api/v1/events?access_token=' + encodeURIComponent(token));
  events.onopen = () => { document.getElementById('conn').textContent = 'live: following every slot actor'; document.body.dataset.live = 'true'; };
  events.onerror = () => { document.getElementById('conn').textContent = 'disconnected; retrying…'; };
  events.addEventListener('inspect', (e) => {
    const event = JSON.parse(e.data);
    // config/plugin:NAME: a plugin slot the engine slot runs for a config reload (one per plugin the config starts).
    if (event.actorId === 'engine' || event.actorId.startsWith('plugin:') || event.actorId.startsWith('config/plugin:')) highlight(event.actorId, leaf(event.state));
  });
  events.addEventListener('reload', (e) => {
    addReload(JSON.parse(e.data).result);
    refreshHealth();
  });
  // Memory and CPU move on between reloads.
  setInterval(refreshHealth, 2000);
}
start();
</script>
</body>
</html>
`;
