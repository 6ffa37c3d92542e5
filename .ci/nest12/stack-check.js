// Leg 2 fails fast unless it really runs on Node >= 24.9 against NestJS 12, nestjs-cls 7 and ioredis 6.
const want = { '@nestjs/core': 12, '@nestjs/common': 12, 'nestjs-cls': 7, ioredis: 6, '@nestjs/schedule': 12, '@nestjs/terminus': 12 };
for (const [name, major] of Object.entries(want)) {
  const { version } = require(`${name}/package.json`);
  if (Number(version.split('.')[0]) !== major) throw new Error(`CI leg 2 expected ${name}@${major}.x but resolved ${version}`);
}
const [maj, min] = process.versions.node.split('.').map(Number);
if (maj < 24 || (maj === 24 && min < 9)) throw new Error(`CI leg 2 needs Node >= 24.9 (require(esm) in Jest); this is ${process.version}`);
