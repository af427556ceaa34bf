/**
 * The stylesheet of the demo pages (`/` and the seat map), served as a file so that the pages'
 * Content-Security-Policy can forbid inline styles and scripts.
 */
export const DEMO_STYLE = `
:root { color-scheme: light; --ink: #1d2430; --muted: #5b6473; --line: #d5d8e0; --held: #e08a1e; --sold: #8a8f9c;
        --selected: #1d4ed8; --error: #b42318; --ok: #067647; }
* { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; margin: 0; color: var(--ink); background: #f7f7f9; }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; }
h1 { font-size: 22px; margin: 4px 0; }
a { color: #1d4ed8; }
.muted { color: var(--muted); font-size: 13px; }
.notice { padding: 8px 12px; border-radius: 6px; margin: 8px 0; font-size: 14px; }
#live { display: inline-block; font-size: 13px; padding: 2px 10px; border-radius: 999px; background: #eef0f4; color: var(--muted); }
#live[data-state=live] { background: #dcfae6; color: var(--ok); }
#live[data-state=reconnecting], #live[data-state=stopped] { background: #fef0c7; color: #93370d; }
.layout { display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }
.map { flex: 1 1 520px; min-width: 0; }
.side { flex: 0 1 340px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; align-items: center; margin: 8px 0; font-size: 13px; }
.legend-item { display: inline-flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 14px; height: 14px; border-radius: 3px; background: var(--category, #2f9e5b); }
.swatch.held { background: var(--held); } .swatch.sold { background: var(--sold); }
.swatch.selected { background: var(--selected); }
.swatch.mine { background: #fff; outline: 2px dashed var(--selected); outline-offset: -2px; }
.swatch.lone { background: #fff; outline: 3px solid var(--error); outline-offset: -3px; }
#map-scroll { overflow-x: auto; padding: 8px 0 16px; }
.map-frame { display: inline-block; min-width: 240px; }
#screen { height: 22px; margin: 8px 0 14px 32px; border-radius: 50% 50% 0 0 / 100% 100% 0 0; background: #c8ccd6;
          color: #fff; font-size: 11px; letter-spacing: 4px; text-align: center; line-height: 24px; }
#grid { display: grid; gap: 4px; grid-auto-rows: 32px; }
.row-label { font-size: 11px; color: var(--muted); align-self: center; text-align: right; padding-right: 6px; }
.seat { width: 34px; height: 32px; padding: 0; border: 2px solid transparent; border-bottom: 5px solid var(--category, #2f9e5b);
        border-radius: 7px 7px 3px 3px; font-size: 10px; line-height: 1; color: #fff; cursor: pointer;
        background: var(--category, #2f9e5b); transition: background .2s; display: flex; flex-direction: column;
        align-items: center; justify-content: center; gap: 1px; }
.seat .icon { font-size: 12px; }
.seat[data-status=RESERVED] { background: var(--held); cursor: not-allowed; }
.seat[data-status=SOLD] { background: var(--sold); cursor: not-allowed; }
.seat.selected { background: var(--selected); border-top-color: #93c5fd; border-left-color: #93c5fd; border-right-color: #93c5fd; }
.seat.mine { outline: 3px dashed var(--selected); outline-offset: 1px; }
.seat.lone { outline: 3px solid var(--error); outline-offset: 1px; }
.seat:focus-visible { outline: 3px solid #111; outline-offset: 2px; }
fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 12px 0; background: #fff; padding: 10px 14px; }
legend { font-weight: 600; padding: 0 4px; }
label { display: block; margin: 6px 0; font-size: 14px; }
input, select { padding: 6px; font: inherit; }
input#token { width: 100%; font-family: monospace; font-size: 11px; }
input#best-quantity { width: 4.5em; }
label.check input { margin: 0 4px 0 0; vertical-align: middle; }
button { padding: 6px 12px; margin: 4px 4px 4px 0; font: inherit; }
.seat-line { margin: 4px 0; }
#total { font-size: 18px; }
#status { font-weight: 600; }
#countdown[data-seconds-left="0"] { color: var(--error); font-weight: 600; }
#error:empty, #message:empty { display: none; }
#error { color: var(--error); background: #fef3f2; border: 1px solid #fecdca; }
#message { color: var(--ok); background: #ecfdf3; border: 1px solid #abefc6; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid var(--line); font-size: 14px; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
footer { padding: 24px; }
`;
