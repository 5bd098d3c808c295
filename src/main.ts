import { mount } from 'svelte';
import App from './ui/App.svelte';
import { formatNumber } from './ui/i18n.svelte.ts';
import { yieldToPage } from './app/yield.ts';
import './ui/app.css';

// Three tasks where there was one long one: the bundle's evaluation, the first mount, and the language's number
// data, which the first number formatted (the progress bar's) loads (~40 ms on this machine's slow Chromium).
void yieldToPage().then(() => {
  mount(App, { target: document.getElementById('app')! });
  setTimeout(() => formatNumber(0));
});
