/* Appointments for staff: the workshop's day and week, booking for a customer, and the changes staff make. */
export * from './operations';
export * from './service';
