// Entry: mount the dashboard and ask the device who it is.
import { render } from 'preact';
import { App } from './App.jsx';
import { loadInfo } from './store.js';

render(<App />, document.getElementById('app'));
loadInfo();
