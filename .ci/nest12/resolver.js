// Jest resolver for CI leg 2: every package the repo's test and library files import comes from this directory's
// node_modules (NestJS 12, nestjs-cls 7, ioredis 6), never from the repo root's (NestJS 11). Files inside
// .ci/nest12/node_modules resolve their own dependencies as usual.
const path = require('node:path');
const { isBuiltin } = require('node:module');

const HERE = __dirname;
const OWN = path.join(HERE, 'node_modules') + path.sep;

module.exports = (request, options) => {
  const bare = !request.startsWith('.') && !path.isAbsolute(request) && !isBuiltin(request);
  if (bare && !options.basedir.startsWith(OWN)) return options.defaultResolver(request, { ...options, basedir: HERE });
  return options.defaultResolver(request, options);
};
