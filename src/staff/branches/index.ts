/*
 * Branches for staff: reading them within one's branches, and the admin's create and change, with the
 * form rules the console and the API share.
 */
export * from './form';
export * from './service';
