// Entry: mount the dashboard and ask the device who we are.
import { render } from 'preact';
import { App } from './App.jsx';
import { boot } from './session.js';

render(<App />, document.getElementById('app'));
boot();
