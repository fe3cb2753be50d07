/*
 * Customer operations staff carry out, free of HTTP and of any runtime: the console pages call them
 * today and the staff API calls the same functions, so both validate, audit and refuse alike.
 */
export * from './result';
export * from './normalize';
export * from './validation';
export * from './search';
export * from './profile';
export * from './update';
export * from './merge';
export * from './export';
export * from './erase';
export * from './conversation';
export * from './delivery-problems';
export * from './create';
export * from './vehicles';
export * from './service';
export * from './scope';
