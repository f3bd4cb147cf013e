import { describe, expect, it } from 'vitest';
import { FormParseError, parseForm } from '../../stripe-emulator/form.ts';

describe('parseForm (Stripe bracket encoding)', () => {
  it('builds nested hashes and indexed arrays', () => {
    const parsed = parseForm(
      'mode=subscription&line_items[0][price]=price_a&line_items[0][quantity]=2&line_items[1][price]=price_b' +
        '&subscription_data[metadata][org_id]=org_1',
    );
    expect(parsed).toEqual({
      mode: 'subscription',
      line_items: [{ price: 'price_a', quantity: '2' }, { price: 'price_b' }],
      subscription_data: { metadata: { org_id: 'org_1' } },
    });
  });

  it('appends `[]` entries in order and accepts percent-encoded brackets', () => {
    expect(parseForm('lookup_keys[]=pro_monthly&lookup_keys[]=pro_yearly&expand%5B0%5D=data.product')).toEqual({
      lookup_keys: ['pro_monthly', 'pro_yearly'],
      expand: ['data.product'],
    });
  });

  it('decodes + and percent escapes in keys and values', () => {
    expect(parseForm('success_url=http%3A%2F%2Fx.test%2Fok%3Fid%3D%7BCHECKOUT_SESSION_ID%7D&name=Ada+Lovelace')).toEqual({
      success_url: 'http://x.test/ok?id={CHECKOUT_SESSION_ID}',
      name: 'Ada Lovelace',
    });
  });

  it('keeps integer-looking metadata keys as map keys', () => {
    expect(parseForm('metadata[0]=zero&metadata[42]=answer')).toEqual({ metadata: { '0': 'zero', '42': 'answer' } });
  });

  it('compacts sparse indexes in index order', () => {
    expect(parseForm('items[2][id]=b&items[0][id]=a')).toEqual({ items: [{ id: 'a' }, { id: 'b' }] });
  });

  it('keeps empty values (Stripe uses them to unset fields)', () => {
    expect(parseForm('metadata=&description=')).toEqual({ metadata: '', description: '' });
  });

  it('treats malformed bracket keys literally instead of guessing', () => {
    expect(parseForm('a[b=1')).toEqual({ 'a[b': '1' });
  });

  it('rejects a key used both as a value and as a hash, naming the param', () => {
    let error: unknown;
    try {
      parseForm('metadata=x&metadata[a]=1');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FormParseError);
    expect((error as FormParseError).param).toBe('metadata');
  });

  it('rejects broken percent-encoding', () => {
    expect(() => parseForm('email=%E0%A4%A')).toThrow(FormParseError);
  });
});
