// connectors.js - the ways out (GET /v1/connectors, admin keys): state,
// rate, queue and errors, refreshed every two seconds, with pause/resume.
import { api } from './api.js';
import { h, page, table, when } from './ui.js';

export async function render(main, { session }) {
  if (!session.admin) {
    main.append(...page('Connectors', h('p', {}, 'Connectors are shown to administrators only.')));
    return null;
  }
  const box = h('div', { 'aria-live': 'off' });
  async function act(c, what) {
    await api('POST', `/v1/connectors/${encodeURIComponent(c.name)}/${what}`);
    await load();
  }
  async function load() {
    const r = await api('GET', '/v1/connectors');
    box.replaceChildren(table([
      { title: 'Name', cell: (c) => c.name },
      { title: 'Type', cell: (c) => c.type },
      { title: 'State', cell: (c) => h('span', { class: 'status ' + (c.state === 'up' ? 'delivered' : 'failed') }, c.state) },
      { title: 'Binds', cell: (c) => `${c.binds_up ?? 0}/${c.binds_total ?? 0}` },
      { title: 'Rate /s', cell: (c) => c.rate ?? 0 },
      { title: 'Queued', cell: (c) => c.queued ?? 0 },
      { title: 'Sent', cell: (c) => c.sent_ok ?? 0 },
      { title: 'Errors (temp/perm)', cell: (c) => `${c.temp_errors ?? 0}/${c.perm_errors ?? 0}` },
      { title: 'Throttled', cell: (c) => c.throttled ?? 0 },
      { title: 'Down since', cell: (c) => when(c.down_since) },
      { title: '', cell: (c) => h('button', { type: 'button', class: 'secondary',
        onclick: () => act(c, c.paused ? 'resume' : 'pause') }, c.paused ? 'Resume' : 'Pause') },
    ], r.connectors));
  }
  main.append(...page('Connectors', box));
  await load();
  const timer = setInterval(() => load().catch(() => {}), 2000);
  return () => clearInterval(timer);
}
