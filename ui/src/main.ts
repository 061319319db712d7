import { mount } from 'svelte';
import App from './App.svelte';
import { firstConnections } from './lib/api';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
// Read before the window opened (or asked for now): the first frame shows them.
const connections = firstConnections();
export default mount(App, { target, props: { connections } });
