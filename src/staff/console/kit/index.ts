/*
 * The console kit: the page context every route gets, the frame, and the components pages are built
 * from. docs/console.md shows a page built on it.
 */
export * from './components';
export * from './context';
export * from './customer-picker';
export * from './form';
export * from './layout';
