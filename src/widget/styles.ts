/**
 * The widget's CSS, adopted into its shadow root as a constructable stylesheet: no <style> element and
 * no inline style attributes, so it works under a strict CSP (style-src without 'unsafe-inline').
 * Host pages theme it only through the documented custom properties below.
 */
export const WIDGET_CSS = `
:host {
  --toonpick-bg: #ffffff;
  --toonpick-fg: #1d1d1f;
  --toonpick-muted: #5b5b63;
  --toonpick-line: #dedbd2;
  --toonpick-accent: #0b6e4f;
  --toonpick-radius: 10px;
  --toonpick-font: system-ui, -apple-system, 'Apple SD Gothic Neo', 'Noto Sans KR', 'Malgun Gothic', sans-serif;
  all: initial;
  display: block;
  contain: content;
}
:host([theme='dark']) {
  --toonpick-bg: #1e1e22;
  --toonpick-fg: #ececf0;
  --toonpick-muted: #a9a9b3;
  --toonpick-line: #34343b;
  --toonpick-accent: #4fd1a1;
}
@media (prefers-color-scheme: dark) {
  :host(:not([theme])), :host([theme='system']) {
    --toonpick-bg: #1e1e22;
    --toonpick-fg: #ececf0;
    --toonpick-muted: #a9a9b3;
    --toonpick-line: #34343b;
    --toonpick-accent: #4fd1a1;
  }
}
.root {
  all: initial; /* stop inherited host-page styles (text-transform, letter-spacing, …) at the border */
  display: block;
  font: 14px/1.4 var(--toonpick-font);
  color: var(--toonpick-fg);
  background: var(--toonpick-bg);
  border: 1px solid var(--toonpick-line);
  border-radius: var(--toonpick-radius);
  padding: 12px;
  box-sizing: border-box;
}
h2 { font-size: 15px; margin: 0 0 8px; font-weight: 700; }
ul { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(110px, 1fr)); gap: 10px; }
li { margin: 0; padding: 0; min-width: 0; }
button.card {
  all: unset;
  box-sizing: border-box;
  display: flex;
  flex-direction: column;
  gap: 4px;
  width: 100%;
  cursor: pointer;
  border-radius: calc(var(--toonpick-radius) - 4px);
  padding: 4px;
}
button.card:focus-visible { outline: 3px solid var(--toonpick-accent); outline-offset: 2px; }
button.card:hover .title { text-decoration: underline; }
img { width: 100%; aspect-ratio: 125 / 101; object-fit: cover; border-radius: 6px; background: var(--toonpick-line); display: block; }
.title { font-weight: 650; overflow-wrap: anywhere; }
.meta, .why { color: var(--toonpick-muted); font-size: 12px; overflow-wrap: anywhere; }
.error { color: #a3261b; border: 1px solid #a3261b; border-radius: 6px; padding: 8px; overflow-wrap: anywhere; }
.status { color: var(--toonpick-muted); }
`;
