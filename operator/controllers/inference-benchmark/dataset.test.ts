import { describe, expect, it } from 'vitest';
import { estimateTokens, normalizedPrompts, parseDataset, rowAt } from './dataset.js';

const conversation = (...turns: [string, string][]) => ({
  conversations: turns.map(([from, value]) => ({ from, value })),
});

describe('workload.dataset in the ShareGPT layout', () => {
  it('takes the first human turn as the prompt and bounds maxTokens by ceil(chars / 4) of the first answer', () => {
    const text = JSON.stringify([
      conversation(['human', 'What is a GPU?'], ['gpt', 'A graphics processor.'], ['human', 'More?']),
      conversation(['system', 'Be brief.'], ['human', 'Name a river.'], ['gpt', 'Rhine']),
    ]);
    const parsed = parseDataset(text, 'sharegpt', 256);
    expect(parsed).toEqual({
      ok: true,
      rows: [
        // 'A graphics processor.' is 21 characters: ceil(21 / 4) = 6.
        { prompt: 'What is a GPU?', maxTokens: 6 },
        { prompt: 'Name a river.', maxTokens: 2 },
      ],
    });
  });

  it('caps the estimate by workload.maxTokens, and gives a row without an answer workload.maxTokens', () => {
    const text = JSON.stringify([
      conversation(['human', 'Write a lot.'], ['gpt', 'x'.repeat(400)]),
      conversation(['user', 'No answer here.']),
    ]);
    expect(parseDataset(text, 'sharegpt', 16)).toEqual({
      ok: true,
      rows: [
        { prompt: 'Write a lot.', maxTokens: 16 },
        { prompt: 'No answer here.', maxTokens: 16 },
      ],
    });
  });

  it.each([
    [
      'bad JSON names the row and line',
      '[{"conversations": []},\n{"conversations" []}]',
      /^row 2 \(line 2\): not JSON/,
    ],
    [
      'a row without a human turn names that row',
      JSON.stringify([conversation(['human', 'a']), conversation(['gpt', 'b'])]),
      /^row 2: no human turn$/,
    ],
    ['an empty file is empty', '', /^the dataset is empty/],
    ['an empty array is empty', '[]', /^the dataset is empty/],
    [
      'a human turn without text names the row',
      JSON.stringify([conversation(['human', '  '])]),
      /^row 1: the human turn has no text$/,
    ],
    [
      'a row without conversations names the row',
      JSON.stringify([conversation(['human', 'a']), {}, {}]),
      /^row 2: no conversations array$/,
    ],
    ['an object instead of an array says what the layout is', '{"conversations": []}', /JSON array/],
  ])('refuses a malformed dataset: %s', (_case, text, message) => {
    const parsed = parseDataset(text, 'sharegpt', 64);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});

describe('workload.dataset as JSON lines', () => {
  it('reads {prompt, maxTokens?} per line, skips blank lines, and caps maxTokens by workload.maxTokens', () => {
    const text =
      '{"prompt": "one", "maxTokens": 8}\n\n{"prompt": "two", "id": 7}\n{"prompt": "three", "maxTokens": 900}\n';
    expect(parseDataset(text, 'jsonl', 32)).toEqual({
      ok: true,
      rows: [
        { prompt: 'one', maxTokens: 8 },
        { prompt: 'two', maxTokens: 32 },
        { prompt: 'three', maxTokens: 32 },
      ],
    });
  });

  it.each([
    ['a row without prompt names the row', '{"prompt": "a"}\n{"text": "b"}\n', /^row 2: no prompt$/],
    ['bad JSON names the row', '{"prompt": "a"}\n\n{"prompt": "b"\n', /^row 2: not JSON/],
    ['a row that is not an object names the row', '{"prompt": "a"}\n["b"]\n', /^row 2: not a JSON object$/],
    [
      'a bad maxTokens names the row',
      '{"prompt": "a", "maxTokens": 0}\n',
      /^row 1: maxTokens must be a positive whole number$/,
    ],
    ['blank lines only are empty', '\n \n', /^the dataset is empty/],
  ])('refuses a malformed dataset: %s', (_case, text, message) => {
    const parsed = parseDataset(text, 'jsonl', 64);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});

describe('the pieces', () => {
  it('estimates ceil(characters / 4), at least 1, at most the cap', () => {
    expect(estimateTokens('', 10)).toBe(1);
    expect(estimateTokens('abcd', 10)).toBe(1);
    expect(estimateTokens('abcde', 10)).toBe(2);
    expect(estimateTokens('x'.repeat(100), 10)).toBe(10);
  });

  it('finds the array element of a position, ignoring commas inside strings and objects', () => {
    const text = '[{"a": "x,y", "b": [1, 2]}, {"c": 1}, {"d"';
    expect(rowAt(text, text.indexOf('"c"'))).toBe(2);
    expect(rowAt(text, text.length)).toBe(3);
    expect(rowAt('{}', 1)).toBeUndefined();
  });

  it('normalizes to JSON lines whose hash follows the content', () => {
    const a = normalizedPrompts([{ prompt: 'p', maxTokens: 4 }]);
    expect(a.bytes.toString()).toBe('{"prompt":"p","maxTokens":4}\n');
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(normalizedPrompts([{ prompt: 'p', maxTokens: 5 }]).sha256).not.toBe(a.sha256);
  });
});
