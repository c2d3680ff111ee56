/**
 * Hover cards for chart elements. The charts carry their text in SVG <title> children (what a
 * screen reader and a static SVG show); here each <title> becomes a styled card that follows the
 * pointer, with its first line as the heading. Native tooltips are then suppressed (no double tips).
 */
import { h } from './dom';

export function installTooltips(root: HTMLElement): void {
  let card = document.getElementById('fconv-tip');
  if (!card) {
    card = h('div', { id: 'fconv-tip', class: 'tip', role: 'tooltip', hidden: true });
    document.body.appendChild(card);
  }
  const tipCard = card;
  for (const t of Array.from(root.querySelectorAll('svg title'))) {
    const owner = t.parentElement;
    if (!owner) continue;
    owner.setAttribute('data-tip', t.textContent ?? '');
    owner.setAttribute('aria-label', (t.textContent ?? '').split('\n')[0] ?? '');
    t.remove();
  }
  const show = (el: Element, ev: MouseEvent) => {
    const lines = (el.getAttribute('data-tip') ?? '').split('\n');
    tipCard.replaceChildren(h('strong', {}, lines[0] ?? ''), ...lines.slice(1).map((l) => h('div', {}, l)));
    tipCard.hidden = false;
    move(ev);
  };
  const move = (ev: MouseEvent) => {
    const pad = 14;
    const w = tipCard.offsetWidth;
    const hgt = tipCard.offsetHeight;
    let x = ev.clientX + pad;
    let y = ev.clientY + pad;
    if (x + w > window.innerWidth - 8) x = Math.max(8, ev.clientX - w - pad);
    if (y + hgt > window.innerHeight - 8) y = Math.max(8, ev.clientY - hgt - pad);
    tipCard.style.transform = `translate(${x}px, ${y}px)`;
  };
  root.addEventListener('mouseover', (ev) => {
    const el = (ev.target as Element | null)?.closest?.('[data-tip]');
    if (el) show(el, ev as MouseEvent);
  });
  root.addEventListener('mousemove', (ev) => {
    if (!tipCard.hidden) move(ev);
  });
  root.addEventListener('mouseout', (ev) => {
    const to = (ev as MouseEvent).relatedTarget as Element | null;
    if (!to?.closest?.('[data-tip]')) tipCard.hidden = true;
  });
}
