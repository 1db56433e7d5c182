document.getElementById('app')!.textContent = 'roomcast meeting';
