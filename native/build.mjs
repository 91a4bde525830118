// Placeholder until the native-addon work lands: npm install must succeed without it.
console.log('lstm-cuda: native addons not built yet (cpu backend only)');
