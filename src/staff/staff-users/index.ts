/* Staff accounts: the stored records, and the admin's create, change and password reset. */
export * from './records';
export * from './service';
