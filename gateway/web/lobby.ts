import { checkRoomName, cleanDisplayName, normalizeRoomInput } from '../src/conference/room-name.ts';
import { NAME_KEY } from './storage-keys.ts';

const form = document.getElementById('join-form') as HTMLFormElement;
const roomInput = document.getElementById('room') as HTMLInputElement;
const nameInput = document.getElementById('display-name') as HTMLInputElement;
const roomError = document.getElementById('room-error')!;
const nameError = document.getElementById('name-error')!;

nameInput.value = localStorage.getItem(NAME_KEY) ?? '';
const fromQuery = new URLSearchParams(location.search).get('room');
if (fromQuery) roomInput.value = fromQuery;

function showError(input: HTMLInputElement, el: HTMLElement, message: string): void {
  el.textContent = message;
  input.setAttribute('aria-invalid', message ? 'true' : 'false');
}

roomInput.addEventListener('input', () => showError(roomInput, roomError, ''));
nameInput.addEventListener('input', () => showError(nameInput, nameError, ''));

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const room = checkRoomName(normalizeRoomInput(roomInput.value));
  const name = cleanDisplayName(nameInput.value);
  showError(roomInput, roomError, room.ok ? '' : room.message);
  showError(nameInput, nameError, name ? '' : 'Enter your name.');
  if (!room.ok) roomInput.focus();
  else if (!name) nameInput.focus();
  if (!room.ok || !name) return;
  localStorage.setItem(NAME_KEY, name);
  location.assign(`/r/${room.name}`);
});
