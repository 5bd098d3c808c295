/** Entry of the widget build (`dist/widget/toonpick-widget.js`): defines <toonpick-recs>. */
import { defineToonpickRecs } from './toonpick-recs.ts';

export { ToonpickRecs, WIDGET_DATABASE } from './toonpick-recs.ts';
defineToonpickRecs();
