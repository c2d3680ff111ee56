const el = document.getElementById('app');
if (el) el.textContent = 'report';
