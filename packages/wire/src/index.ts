export { VippathError } from './errors.js';
