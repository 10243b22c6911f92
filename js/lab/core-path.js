// @ts-check
/**
 * Give `build-labextension --core-path` a directory whose package.json is JupyterLab's core
 * metadata: @jupyterlab/core-meta ships it as core.package.json.
 */
const fs = require('fs');
const path = require('path');

const target = path.join(__dirname, 'node_modules', '.jupyterlab-core');
fs.mkdirSync(target, { recursive: true });
fs.copyFileSync(
  require.resolve('@jupyterlab/core-meta/core.package.json'),
  path.join(target, 'package.json')
);
