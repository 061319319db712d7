import { mount } from 'svelte';
import App from './App.svelte';
import { api } from './lib/api';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
// Asked first: the engine reads the connections while the app mounts.
const connections = api.listConnections();
export default mount(App, { target, props: { connections } });
