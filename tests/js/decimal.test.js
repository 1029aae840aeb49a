// decimal fields through the public API: exact strings with precision and
// scale, validated, compared numerically in where/orderBy/indexes, and the
// same strings after a snapshot round trip and in templates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro, throwsNitro } from './helpers.js';

async function shop(def = {}) {
  const nitro = await createNitro();
  const Item = nitro.entity('Item', {
    fields: {
      name: { type: 'string' },
      price: { type: 'decimal', precision: 12, scale: 2, required: true },
      rate: { type: 'decimal', precision: 6, scale: 4, optional: true, min: 0, max: 1 },
    },
    ...def,
  });
  return { nitro, Item };
}

const prices = ['10.25', '9.5', '-3', '100', '0.07', '-0.5', '9.50'];

test('a decimal is stored exactly, padded to its scale, and read back as a string', async () => {
  const { Item } = await shop();
  assert.equal(Item.create({ id: 'a', price: '12.5' }).price, '12.50');
  assert.equal(Item.create({ id: 'b', price: '0007' }).price, '7.00');
  assert.equal(Item.create({ id: 'c', price: '-0' }).price, '0.00');
  assert.equal(Item.create({ id: 'd', price: 0.1 }).price, '0.10');
  assert.equal(Item.create({ id: 'e', price: '1234567890.12' }).price, '1234567890.12');
  assert.equal(Item.create({ id: 'f', price: '2.500' }).price, '2.50');
  assert.equal(Item.get('a').price, '12.50');
  assert.deepEqual(Item.get('e').toJSON(), { id: 'e', name: null, price: '1234567890.12', rate: null });
  assert.equal(Item.update('a', { price: '99999999.99' }).price, '99999999.99');
});

test('too many digits, bad text and bounds are VALIDATION naming entity, field and rule', async () => {
  const { Item } = await shop();
  throwsNitro(assert, () => Item.create({ price: '12345678901.5' }), { code: 'VALIDATION', entity: 'Item', field: 'price', rule: 'precision' });
  throwsNitro(assert, () => Item.create({ price: '1.234' }), { code: 'VALIDATION', entity: 'Item', field: 'price', rule: 'scale', message: /Item\.price: .*1\.234/ });
  for (const bad of ['1e3', '+1', ' 1', '.5', '1.', '', 'abc', true, [1], 1e21, NaN]) {
    throwsNitro(assert, () => Item.create({ price: bad }), { code: 'VALIDATION', entity: 'Item', field: 'price', rule: 'type' });
  }
  throwsNitro(assert, () => Item.create({ price: '1', rate: '1.0001' }), { code: 'VALIDATION', field: 'rate', rule: 'max' });
  throwsNitro(assert, () => Item.create({ price: '1', rate: '-0.0001' }), { code: 'VALIDATION', field: 'rate', rule: 'min' });
  throwsNitro(assert, () => Item.create({}), { code: 'VALIDATION', field: 'price', rule: 'required' });
  assert.equal(Item.count(), 0);
});

test('definitions: precision and scale are checked, the type is listed', async () => {
  const nitro = await createNitro();
  for (const spec of [{ precision: 0 }, { precision: 65 }, { precision: 4, scale: 5 }, { precision: 1.5 }, { scale: -1 }]) {
    throwsNitro(assert, () => nitro.entity('Bad', { fields: { p: { type: 'decimal', ...spec } } }), { code: 'SCHEMA', entity: 'Bad', field: 'p' });
  }
  throwsNitro(assert, () => nitro.entity('Bad', { fields: { p: { type: 'money' } } }), { code: 'SCHEMA', field: 'p', message: /decimal/ });
  const D = nitro.entity('D', { fields: { p: { type: 'decimal' } } });   // precision 38, scale 0
  assert.equal(D.create({ p: '12345678901234567890123456789012345678' }).p, '12345678901234567890123456789012345678');
  throwsNitro(assert, () => D.create({ p: '1.5' }), { code: 'VALIDATION', rule: 'scale' });
});

async function numericOrder(def) {
  const { Item } = await shop(def);
  Item.insertMany(prices.map((price, i) => ({ id: `i${i}`, price })));
  const sorted = Item.query().orderBy('price').all().map((r) => r.price);
  assert.deepEqual(sorted, ['-3.00', '-0.50', '0.07', '9.50', '9.50', '10.25', '100.00']);
  assert.deepEqual(Item.query().orderBy('-price', 'id').all().map((r) => r.price), [...sorted].reverse());
  assert.deepEqual(Item.where({ price: { lt: '10' } }).orderBy('price').all().map((r) => r.price), ['-3.00', '-0.50', '0.07', '9.50', '9.50']);
  assert.deepEqual(Item.where({ price: { gte: '9.5', lte: 10.25 } }).orderBy('price', 'id').ids(), ['i1', 'i6', 'i0']);
  assert.deepEqual(Item.where({ price: '9.5' }).ids().sort(), ['i1', 'i6']);        // equal whatever the text form
  assert.deepEqual(Item.where({ price: { in: ['100', '-3.000'] } }).ids().sort(), ['i2', 'i3']);
  assert.equal(Item.where({ price: { gt: '10.249' } }).count(), 2);               // a bound finer than the scale
  assert.equal(Item.where({ price: { eq: '10.255' } }).count(), 0);
  assert.equal(Item.where({ price: { gt: '-0' } }).count(), 5);
  throwsNitro(assert, () => Item.where({ price: { lt: '1e3' } }).all(), { code: 'QUERY', field: 'price' });
}

test("where and orderBy compare numerically ('9.5' < '10.25'), without an index", () => numericOrder());
test('and with an index on the decimal', () => numericOrder({ indexes: ['price'] }));

test('unique keys compare decimals by value', async () => {
  const { Item } = await shop({ unique: [['price']] });
  Item.create({ price: '5' });
  throwsNitro(assert, () => Item.create({ price: '5.00' }), { code: 'DUPLICATE' });
  throwsNitro(assert, () => Item.create({ price: 5 }), { code: 'DUPLICATE' });
});

test('snapshots and templates carry the exact strings', async () => {
  const { nitro, Item } = await shop();
  Item.insertMany([{ id: 'a', price: '0.1' }, { id: 'b', price: '123.45', rate: '0.0825' }]);
  const bytes = nitro.snapshot();
  const other = await createNitro();
  const Copy = other.entity('Item', { fields: { name: { type: 'string' }, price: { type: 'decimal', precision: 12, scale: 2, required: true }, rate: { type: 'decimal', precision: 6, scale: 4, optional: true, min: 0, max: 1 } } });
  other.restore(bytes);
  assert.deepEqual(Copy.all().map((r) => [r.price, r.rate]), [['0.10', null], ['123.45', '0.0825']]);
  assert.deepEqual(Copy.query().orderBy('-price').ids(), ['b', 'a']);
  const t = other.template('{{#items}}<b>{{price}}</b>{{/items}}');
  assert.equal(t.render({ items: Copy.query().orderBy('price') }), '<b>0.10</b><b>123.45</b>');
  assert.equal(JSON.stringify(Copy.get('b')), '{"id":"b","name":null,"price":"123.45","rate":"0.0825"}');
});
