document.getElementById('player')!.textContent = 'roomcast player';
