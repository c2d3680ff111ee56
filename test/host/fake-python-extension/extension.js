// The Python extension's public API as the profiler reads it (environments.getActiveEnvironmentPath), answering
// the interpreter the tests chose; it also counts the calls, so a test can prove the API was asked.
const fs = require('node:fs');
const path = require('node:path');
let asked = 0;
exports.activate = () => ({
  environments: {
    getActiveEnvironmentPath: () => {
      asked++;
      const file = path.join(__dirname, 'fake-python-path');
      const p = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : process.env.FCONV_FAKE_PYTHON_PATH;
      return p ? { id: p, path: p } : undefined;
    },
  },
  fconvTestAsked: () => asked,
});
