// chart.js - line charts through uPlot (vendored from npm at build time and
// loaded as /assets/uplot.js). Without it the numbers still show as text.

export function lineChart(el, title, times, series) {
  el.replaceChildren();
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', title + ': ' + series.map((s) => `${s.label} ${s.values.at(-1) ?? 0}`).join(', '));
  if (!window.uPlot) {
    el.textContent = title + ' (chart library not built in)';
    return null;
  }
  const width = Math.max(280, Math.min(el.clientWidth || 600, 1000));
  const colors = ['#0b5cad', '#1d6b34', '#a4161a', '#6a3d9a', '#b15928'];
  const opts = {
    title, width, height: 220,
    scales: { x: { time: true } },
    series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: colors[i % colors.length], width: 2 }))],
    axes: [{}, { size: 50 }],
  };
  return new window.uPlot(opts, [times, ...series.map((s) => s.values)], el);
}
