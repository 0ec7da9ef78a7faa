import { render } from 'preact';
import { initApi } from './api';
import { App } from './App';
import { completeSignIn } from './auth';
import { loadConfig } from './config';
import './styles.css';

async function start(root: HTMLElement): Promise<void> {
  let cfg;
  try {
    cfg = await loadConfig();
  } catch (e) {
    root.textContent = '';
    const p = document.createElement('p');
    p.setAttribute('role', 'alert');
    p.className = 'api-error';
    p.textContent = `The console could not load its configuration: ${e instanceof Error ? e.message : String(e)}`;
    root.append(p);
    return;
  }
  initApi(cfg);
  let startError: unknown;
  try {
    await completeSignIn(cfg);
  } catch (e) {
    startError = e;
  }
  render(<App cfg={cfg} startError={startError} />, root);
}

void start(document.getElementById('app')!);
