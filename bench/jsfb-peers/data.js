// The rows every peer app builds: the same words as the nitro-wasm app.
const A = ['pretty', 'large', 'big', 'small', 'tall', 'short', 'long', 'handsome', 'plain', 'quaint', 'clean', 'elegant', 'easy', 'angry', 'crazy', 'helpful', 'mushy', 'odd', 'unsightly', 'adorable', 'important', 'inexpensive', 'cheap', 'expensive', 'fancy'];
const C = ['red', 'yellow', 'blue', 'green', 'pink', 'brown', 'purple', 'brown', 'white', 'black', 'orange'];
const N = ['table', 'chair', 'house', 'bbq', 'desk', 'car', 'pony', 'cookie', 'sandwich', 'burger', 'pizza', 'mouse', 'keyboard'];
const pick = (a) => a[Math.round(Math.random() * 1000) % a.length];
let nextId = 1;
export const buildData = (n) => Array.from({ length: n }, () => ({ id: nextId++, label: `${pick(A)} ${pick(C)} ${pick(N)}` }));
